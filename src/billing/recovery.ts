import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { BillingShard, RedisKeys } from '../stores/keys.js';
import { whenReady, type RedisClient } from '../stores/redis.js';
import { callAnsweredSchema, callEndedByRecovery } from './events.js';
import { APPEND_RESULTS, HEARTBEAT_LUA } from './scripts.js';
import type { StreamSink } from './sink.js';
import type { SinkOp } from './sinkOp.js';

/** An owner is one life of an instance: `<instance_id>~<boot id>`. */
export function ownerToken(instanceId: string, boot: string): string {
  return `${instanceId}~${boot}`;
}

export function instanceOf(owner: string): string {
  const i = owner.lastIndexOf('~');
  return i < 0 ? owner : owner.slice(0, i);
}

export interface RecoveryOptions {
  readonly instanceId: string;
  /** this life's owner token */
  readonly owner: string;
  readonly heartbeatIntervalMs: number;
  readonly livenessTtlMs: number;
  readonly batchSize: number;
  readonly shards: readonly BillingShard[];
}

interface HeartbeatCommands {
  sipEdgeBillingHeartbeat(registry: string, owner: string, localMs: number): Promise<[number, number]>;
}

/** A registry entry: "<Redis ms>:<owner ms>" of the owner's last heartbeat. */
function parseBeat(text: string | undefined): { redisMs: number; ownerMs: number } | null {
  if (text === undefined) return null;
  const [redisMs, ownerMs] = text.split(':').map(Number);
  return Number.isFinite(redisMs) && Number.isFinite(ownerMs) ? { redisMs: redisMs!, ownerMs: ownerMs! } : null;
}

/**
 * Restart safety of answered calls, fenced against Redis outages.
 *
 * The open record of each answered call lives in Redis under its owner (written atomically with
 * call.answered, removed atomically with call.ended). Every heartbeat interval this instance
 *  - records its heartbeat in the registry (Redis's clock and its own);
 *  - closes the open calls of dead owners with call.ended, cause edge_restart, and the duration up
 *    to the owner's last heartbeat.
 * Dead means: an earlier life of this same instance_id (closed at once on start), or an owner whose
 * last sign of life (heartbeat, or first open call) is older than the liveness TTL on Redis's clock
 * — judged only by an instance that has itself reached Redis at every heartbeat for at least the
 * liveness TTL. That fence is what keeps a Redis outage (or a slow failover) from reading as "every
 * other instance died": after an outage no instance closes anything until the others have had a
 * full TTL of working Redis to beat again. An instance cut off alone for longer than the TTL is
 * still closed by its peers; when it comes back it corrects each such call at its real end with a
 * call.corrected (see sink.ts).
 * Each close claims the open record in the same Lua step as the append, so concurrent recoveries
 * and a late normal end yield exactly one call.ended per call.
 */
export class OpenCallRecovery {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  /** owner's clock at the first heartbeat of the current unbroken run of heartbeats, null = none */
  private streakStart: number | null = null;
  private lastBeatAt: number | null = null;
  /** Redis's clock at the last heartbeat */
  private redisNow = 0;
  private registeredOnce = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly sink: StreamSink,
    private readonly options: RecoveryOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('sipEdgeBillingHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_LUA });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Heartbeat, then recovery; errors are logged (the next tick tries again). */
  async tick(): Promise<number> {
    try {
      await whenReady(this.redis, this.options.heartbeatIntervalMs);
      await this.heartbeat();
    } catch (err) {
      this.breakStreak();
      this.logger.warn({ err: { message: (err as Error).message } }, 'billing: heartbeat failed, will retry');
      return 0;
    }
    try {
      return await this.recover();
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'billing: recovery failed, will retry');
      return 0;
    }
  }

  /**
   * One heartbeat. A run of heartbeats is unbroken while each one succeeds within 1.5 heartbeat
   * intervals of the previous one (a failure, or a stall of this process, starts a new run).
   */
  async heartbeat(): Promise<void> {
    const at = this.now();
    let reply: [number, number];
    try {
      reply = await (this.redis as unknown as HeartbeatCommands).sipEdgeBillingHeartbeat(this.keys.billingHeartbeats, this.options.owner, at);
    } catch (err) {
      this.breakStreak();
      throw err;
    }
    const done = this.now();
    if (this.lastBeatAt === null || this.streakStart === null || done - this.lastBeatAt > this.options.heartbeatIntervalMs * 1.5) {
      this.streakStart = done;
    }
    this.lastBeatAt = done;
    this.redisNow = Number(reply[0]);
    if (this.registeredOnce && Number(reply[1]) === 0) {
      this.metrics.billingTakenForDead.inc();
      this.logger.warn(
        { owner: this.options.owner },
        'billing: a peer took this instance for dead (cut off from Redis longer than billing.liveness_ttl_s); calls it closed get call.corrected at their real end',
      );
    }
    this.registeredOnce = true;
  }

  /** True once this instance has reached Redis at every heartbeat for at least the liveness TTL. */
  get fenced(): boolean {
    return this.streakStart !== null && this.lastBeatAt !== null && this.lastBeatAt - this.streakStart >= this.options.livenessTtlMs;
  }

  /** Closes the open calls of every dead owner; returns how many calls this instance closed. */
  recover(): Promise<number> {
    // One run at a time; a tick that comes during a run shares it.
    this.running ??= this.recoverOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** At shutdown: forget this owner when it holds no open call (else peers close them later). */
  async retire(): Promise<void> {
    await this.sink.retire(this.options.owner);
  }

  private breakStreak(): void {
    this.streakStart = null;
    this.lastBeatAt = null;
  }

  private async recoverOnce(): Promise<number> {
    const ttl = this.options.livenessTtlMs;
    const [registry, ...perShard] = await Promise.all([
      this.redis.hgetall(this.keys.billingHeartbeats),
      ...this.options.shards.map((shard) => this.redis.hgetall(shard.owners)),
    ]);
    // Owners with (possibly) open calls, with the shards they have them in and their newest sign of life.
    const holders = new Map<string, { shards: BillingShard[]; registeredMs: number }>();
    perShard.forEach((owners, i) => {
      for (const [owner, registered] of Object.entries(owners)) {
        const h = holders.get(owner) ?? { shards: [], registeredMs: 0 };
        h.shards.push(this.options.shards[i]!);
        h.registeredMs = Math.max(h.registeredMs, Number(registered) || 0);
        holders.set(owner, h);
      }
    });
    let closed = 0;
    for (const [owner, { shards, registeredMs }] of holders) {
      if (owner === this.options.owner) continue;
      const beat = parseBeat(registry[owner]);
      const earlierLife = instanceOf(owner) === this.options.instanceId;
      const silentMs = this.redisNow - Math.max(beat?.redisMs ?? 0, registeredMs);
      if (!earlierLife && !(this.fenced && silentMs >= ttl)) continue;
      if (earlierLife && silentMs < ttl) {
        this.logger.warn({ owner }, 'billing: closing the calls of an earlier life of this instance that beat recently; INSTANCE_ID must be unique per running process');
      }
      closed += await this.closeOwner(owner, shards, beat?.ownerMs ?? null);
    }
    // Owners that hold nothing and stopped beating long ago (a crash without calls): forget them.
    if (this.fenced) {
      for (const [owner, text] of Object.entries(registry)) {
        const beat = parseBeat(text);
        if (owner !== this.options.owner && !holders.has(owner) && beat && this.redisNow - beat.redisMs >= ttl) {
          await this.sink.retire(owner);
        }
      }
    }
    return closed;
  }

  private async closeOwner(owner: string, shards: readonly BillingShard[], lastBeat: number | null): Promise<number> {
    const ops: SinkOp[] = [];
    for (const shard of shards) {
      const open = await this.redis.hgetall(shard.open(owner));
      for (const [callId, json] of Object.entries(open)) {
        const parsed = callAnsweredSchema.safeParse(safeJson(json));
        if (!parsed.success) {
          this.logger.error({ owner, callId, problem: parsed.error.message }, 'billing: unreadable open-call record left in Redis');
          continue;
        }
        ops.push({ mode: 'reap', owner, event: callEndedByRecovery(parsed.data, lastBeat, this.options.instanceId) });
      }
    }
    let closed = 0;
    for (let i = 0; i < ops.length; i += this.options.batchSize) {
      const batch = ops.slice(i, i + this.options.batchSize);
      const results = await this.sink.run(batch);
      results.forEach((r, j) => {
        if (r instanceof Error) throw r;
        if (r !== APPEND_RESULTS.appended) return;
        closed++;
        this.metrics.billingRecoveredCalls.inc();
        const e = batch[j]!.event;
        this.logger.warn(
          { callId: e.call_id, owner, durationMs: e.type === 'call.ended' ? e.duration_ms : undefined },
          'billing: closed a call left open by a dead instance (edge_restart)',
        );
      });
    }
    const retired = await this.sink.retire(owner);
    if (closed > 0 || retired) this.logger.info({ owner, closed, retired }, 'billing: recovered dead instance');
    return closed;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
