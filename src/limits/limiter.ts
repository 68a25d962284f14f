import type { TrunkRecord } from '../domain/model.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RejectReason } from '../pipeline/reasons.js';
import type { RedisKeys } from '../stores/keys.js';
import type { RedisClient } from '../stores/redis.js';
import type { RecordReader } from '../stores/routeStore.js';
import { ADMIT_LUA, ADMIT_NUMBER_LUA, NOT_TRIED } from './scripts.js';

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
 * The route lookup's Redis read with the call's admission in the same round trip (ADMIT_NUMBER_LUA):
 * `read` goes to the route store, which calls it on a cache miss. `admission()` then says what the
 * script decided, or null when it did not decide (the route was cached, another lookup of the
 * number was under way, the record is not an active number with inbound routing, or Redis
 * failed): the caller then admits the call the usual way.
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
  /** the five KEYS then ARGV, as defined with numberOfKeys: 5 */
  sipEdgeAdmit(...args: (string | number)[]): Promise<number>;
  /** the three KEYS then ARGV: [record or null, result or NOT_TRIED, workspace id] */
  sipEdgeAdmitNumber(...args: (string | number)[]): Promise<[string | null, number, string | undefined]>;
}

/** Stands for the workspace id in the key templates handed to ADMIT_NUMBER_LUA. */
const WORKSPACE = '\u0000workspace\u0000';

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
  /** prefix and suffix of the workspace's calls, cps and settings keys (ADMIT_NUMBER_LUA ARGV 9-14) */
  private readonly workspaceKeyTemplates: readonly string[];

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
    const around = (key: string): string[] => {
      const at = key.indexOf(WORKSPACE);
      return [key.slice(0, at), key.slice(at + WORKSPACE.length)];
    };
    this.workspaceKeyTemplates = [
      ...around(keys.activeCalls('workspace', WORKSPACE)),
      ...around(keys.cpsBucket('workspace', WORKSPACE)),
      ...around(keys.workspaceSettings(WORKSPACE)),
    ];
    redis.defineCommand('sipEdgeAdmit', { numberOfKeys: 5, lua: ADMIT_LUA });
    redis.defineCommand('sipEdgeAdmitNumber', { numberOfKeys: 3, lua: ADMIT_NUMBER_LUA });
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

  async admit(trunk: TrunkRecord, workspaceId: string, callId: string): Promise<Admission> {
    const member = `${this.instanceId}:${callId}`;
    const keys = [
      this.keys.activeCalls('trunk', trunk.id),
      this.keys.cpsBucket('trunk', trunk.id),
      this.keys.activeCalls('workspace', workspaceId),
      this.keys.cpsBucket('workspace', workspaceId),
      this.keys.workspaceSettings(workspaceId),
    ];
    let result: number;
    const started = process.hrtime.bigint();
    try {
      result = await (this.redis as unknown as AdmitClient).sipEdgeAdmit(...keys, ...this.admitArgs(trunk, member));
      this.metrics.redisSeconds.observe({ operation: 'limits_admit' }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      // Limits fail open: while Redis is down, calls on cached routes keep working.
      this.metrics.limitChecks.inc({ result: 'unavailable' });
      this.logger.warn({ err: { message: (err as Error).message } }, 'limits unavailable; admitting call');
      return { kind: 'admitted', lease: { release: () => undefined } };
    }
    return this.settle(result, member, [keys[0]!, keys[2]!]);
  }

  alongLookup(trunk: TrunkRecord, callId: string): AdmissionAlongLookup {
    let decided: Admission | null = null;
    const read = async (numberKey: string): Promise<string | null> => {
      const member = `${this.instanceId}:${callId}`;
      const trunkCalls = this.keys.activeCalls('trunk', trunk.id);
      const started = process.hrtime.bigint();
      const [record, result, workspaceId] = await (this.redis as unknown as AdmitClient).sipEdgeAdmitNumber(
        numberKey,
        trunkCalls,
        this.keys.cpsBucket('trunk', trunk.id),
        ...this.admitArgs(trunk, member),
        ...this.workspaceKeyTemplates,
      );
      this.metrics.redisSeconds.observe({ operation: 'limits_admit_number' }, Number(process.hrtime.bigint() - started) / 1e9);
      if (result !== NOT_TRIED && workspaceId !== undefined) {
        decided = this.settle(result, member, [trunkCalls, this.keys.activeCalls('workspace', workspaceId)]);
      }
      return record;
    };
    return { read, admission: () => decided };
  }

  /** ARGV 1-8 of both admission scripts. */
  private admitArgs(trunk: TrunkRecord, member: string): (string | number)[] {
    const now = this.now();
    return [
      now,
      member,
      now + this.leaseMs,
      this.leaseMs,
      trunk.limits.max_concurrent_calls ?? -1,
      trunk.limits.max_cps ?? -1,
      this.defaults.max_concurrent_calls ?? -1,
      this.defaults.max_cps ?? -1,
    ];
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
    const pipeline = this.redis.pipeline();
    for (const [key, members] of batch) pipeline.zrem(key, ...members);
    try {
      const failed = (await pipeline.exec())?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'lease release failed; the slots expire by themselves');
    }
  }

  private async refresh(): Promise<void> {
    if (this.held.size === 0) return;
    const expiry = this.now() + this.leaseMs;
    const pipeline = this.redis.pipeline();
    for (const { member, keys } of this.held.values()) {
      for (const key of keys) pipeline.zadd(key, 'XX', expiry, member);
    }
    try {
      await pipeline.exec();
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'lease refresh failed');
    }
  }
}
