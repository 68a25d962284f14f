import type { TrunkRecord } from '../domain/model.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RejectReason } from '../pipeline/reasons.js';
import type { RedisKeys } from '../stores/keys.js';
import { runBatch, type BatchCommand, type RedisClient } from '../stores/redis.js';
import type { RecordReader } from '../stores/routeStore.js';
import { ADMIT_TRUNK_LUA, ADMIT_WORKSPACE_LUA, GIVE_BACK_LUA } from './scripts.js';

const REFUSALS: Readonly<Record<number, RejectReason>> = {
  1: 'limit_trunk_calls',
  2: 'limit_trunk_cps',
  3: 'limit_workspace_calls',
  4: 'limit_workspace_cps',
};

export interface WorkspaceLimitDefaults {
  readonly max_concurrent_calls: number | null;
  readonly max_cps: number | null;
}

/** A taken call slot; release() is run-once and also safe after Redis comes back. */
export interface Lease {
  release(): void;
}

export type Admission = { readonly kind: 'admitted'; readonly lease: Lease } | { readonly kind: 'refused'; readonly reason: RejectReason };

/**
 * The route lookup's Redis read, followed at once by the call's admission: `read` goes to the route
 * store, which calls it on a cache miss; when the record is an active number with inbound routing
 * it admits the call against the trunk and the number's workspace before returning the record.
 * `admission()` then says what was decided, or null when nothing was (the route was cached,
 * another lookup of the number was under way, the record is not admissible, or Redis failed): the
 * caller then admits the call the usual way.
 */
export interface AdmissionAlongLookup {
  readonly read: RecordReader;
  admission(): Admission | null;
}

export interface CallLimiter {
  admit(trunk: TrunkRecord, workspaceId: string, callId: string): Promise<Admission>;
  alongLookup(trunk: TrunkRecord, callId: string): AdmissionAlongLookup;
}

interface AdmitClient {
  /** KEYS trunk calls, trunk cps; ARGV as ADMIT_TRUNK_LUA */
  sipEdgeAdmitTrunk(...args: (string | number)[]): Promise<number>;
  /** KEYS workspace calls, workspace cps, workspace settings; ARGV as ADMIT_WORKSPACE_LUA */
  sipEdgeAdmitWorkspace(...args: (string | number)[]): Promise<number>;
  /** numkeys, KEYS, ARGV as GIVE_BACK_LUA */
  sipEdgeGiveBack(...args: (string | number)[]): Promise<number>;
}

interface Held {
  readonly member: string;
  readonly keys: readonly string[];
}

/**
 * Released slots leave Redis in batches this long after the first release: one ZREM per key for
 * every call that ended meanwhile instead of a round trip per call (a slot counts a few ms longer).
 */
const RELEASE_BATCH_MS = 20;

export class RedisCallLimiter implements CallLimiter {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  /** Redis key -> members released since the last batch went out */
  private releasing = new Map<string, string[]>();
  private releaseTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly instanceId: string,
    private readonly defaults: WorkspaceLimitDefaults,
    private readonly leaseMs: number,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('sipEdgeAdmitTrunk', { numberOfKeys: 2, lua: ADMIT_TRUNK_LUA });
    redis.defineCommand('sipEdgeAdmitWorkspace', { numberOfKeys: 3, lua: ADMIT_WORKSPACE_LUA });
    redis.defineCommand('sipEdgeGiveBack', { lua: GIVE_BACK_LUA });
  }

  /** Refreshes the leases of this instance's calls well before they expire. */
  start(): void {
    this.timer = setInterval(() => void this.refresh(), Math.max(1000, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** Stops refreshing and sends the releases still batched. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sendReleases();
  }

  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Both sides at once (one round trip: the two scripts go out together). A side that took its
   * slot while the other refused gives it back, lease and token; the refusal named is the trunk's
   * when both refuse.
   */
  async admit(trunk: TrunkRecord, workspaceId: string, callId: string): Promise<Admission> {
    const member = `${this.instanceId}:${callId}`;
    const trunkKeys = [this.keys.activeCalls('trunk', trunk.id), this.keys.cpsBucket('trunk', trunk.id)];
    const workspaceKeys = [this.keys.activeCalls('workspace', workspaceId), this.keys.cpsBucket('workspace', workspaceId), this.keys.workspaceSettings(workspaceId)];
    const client = this.redis as unknown as AdmitClient;
    const now = this.now();
    const common = [now, member, now + this.leaseMs, this.leaseMs];
    const trunkMaxCps = trunk.limits.max_cps ?? -1;
    const workspaceMaxCps = this.defaults.max_cps ?? -1;
    const started = process.hrtime.bigint();
    const [t, w] = await Promise.allSettled([
      client.sipEdgeAdmitTrunk(...trunkKeys, ...common, trunk.limits.max_concurrent_calls ?? -1, trunkMaxCps),
      client.sipEdgeAdmitWorkspace(...workspaceKeys, ...common, this.defaults.max_concurrent_calls ?? -1, workspaceMaxCps),
    ]);
    if (t.status === 'rejected' || w.status === 'rejected') {
      // Limits fail open: while Redis is down, calls on cached routes keep working. A side that
      // did take a slot keeps it until its lease expires (it is not refreshed).
      this.metrics.limitChecks.inc({ result: 'unavailable' });
      const err = (t.status === 'rejected' ? t.reason : (w as PromiseRejectedResult).reason) as Error;
      this.logger.warn({ err: { message: err.message } }, 'limits unavailable; admitting call');
      return { kind: 'admitted', lease: { release: () => undefined } };
    }
    this.metrics.redisSeconds.observe({ operation: 'limits_admit' }, Number(process.hrtime.bigint() - started) / 1e9);
    if (t.value !== 0 && w.value === 0) this.giveBack(workspaceKeys, member, now, workspaceMaxCps);
    if (t.value === 0 && w.value !== 0) this.giveBack(trunkKeys, member, now, trunkMaxCps);
    return this.settle(t.value !== 0 ? t.value : w.value, member, [trunkKeys[0]!, workspaceKeys[0]!]);
  }

  alongLookup(trunk: TrunkRecord, callId: string): AdmissionAlongLookup {
    let decided: Admission | null = null;
    const read = async (numberKey: string): Promise<string | null> => {
      const raw = await this.redis.get(numberKey);
      const workspaceId = admissibleWorkspace(raw);
      if (workspaceId !== null) decided = await this.admit(trunk, workspaceId, callId);
      return raw;
    };
    return { read, admission: () => decided };
  }

  private giveBack(sideKeys: readonly string[], member: string, now: number, maxCps: number): void {
    (this.redis as unknown as AdmitClient)
      .sipEdgeGiveBack(sideKeys.length, ...sideKeys, now, member, maxCps)
      .catch((err: Error) => this.logger.warn({ err: { message: err.message } }, 'limits: give-back failed; the slot expires with its lease'));
  }

  /** A script's result as an Admission; an admitted call's lease is held (refreshed) until released. */
  private settle(result: number, member: string, leaseKeys: readonly string[]): Admission {
    const refusal = REFUSALS[result];
    if (refusal) {
      this.metrics.limitChecks.inc({ result: refusal });
      return { kind: 'refused', reason: refusal };
    }
    this.metrics.limitChecks.inc({ result: 'admitted' });
    const held: Held = { member, keys: leaseKeys };
    this.held.set(member, held);
    let released = false;
    return {
      kind: 'admitted',
      lease: {
        release: () => {
          if (released) return;
          released = true;
          this.held.delete(member);
          this.queueRelease(held);
        },
      },
    };
  }

  private queueRelease({ member, keys }: Held): void {
    for (const key of keys) {
      const members = this.releasing.get(key);
      if (members) members.push(member);
      else this.releasing.set(key, [member]);
    }
    if (!this.releaseTimer) this.releaseTimer = setTimeout(() => void this.sendReleases(), RELEASE_BATCH_MS);
  }

  private async sendReleases(): Promise<void> {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    if (this.releasing.size === 0) return;
    const batch = this.releasing;
    this.releasing = new Map();
    const commands: BatchCommand[] = [...batch].map(([key, members]) => ({ key, add: (p) => p.zrem(key, ...members) }));
    try {
      await runBatch(this.redis, commands);
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'lease release failed; the slots expire by themselves');
    }
  }

  private async refresh(): Promise<void> {
    if (this.held.size === 0) return;
    const expiry = this.now() + this.leaseMs;
    const commands: BatchCommand[] = [];
    for (const { member, keys } of this.held.values()) {
      for (const key of keys) commands.push({ key, add: (p) => p.zadd(key, 'XX', expiry, member) });
    }
    try {
      await runBatch(this.redis, commands);
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'lease refresh failed');
    }
  }
}

/** The workspace of a number record the call may be admitted for (active, inbound routing), else null. */
function admissibleWorkspace(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    const record = JSON.parse(raw) as { status?: unknown; inbound_routing?: unknown; workspace_id?: unknown };
    const routed = typeof record.inbound_routing === 'object' && record.inbound_routing !== null;
    return record.status === 'active' && routed && typeof record.workspace_id === 'string' ? record.workspace_id : null;
  } catch {
    return null;
  }
}
