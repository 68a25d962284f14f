import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RedisKeys } from '../stores/keys.js';
import { whenReady, type RedisClient } from '../stores/redis.js';
import { callAnsweredSchema, callEndedByRecovery } from './events.js';
import { APPEND_RESULTS } from './scripts.js';
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
}

/**
 * Restart safety of answered calls. The open record of each answered call lives in Redis under its
 * owner (written atomically with call.answered, removed atomically with call.ended). Every
 * heartbeat interval this instance
 *  - refreshes its liveness key (TTL) and its last heartbeat time in the owner registry;
 *  - closes the open calls of dead owners with call.ended, cause edge_restart, and the duration up
 *    to the owner's last heartbeat. Dead = an earlier life of this same instance_id (closed at
 *    once on start), or an owner whose liveness key expired (closed by any live peer).
 * Each close claims the open record in the same Lua step as the append, so concurrent recoveries
 * and a late normal end yield exactly one call.ended per call.
 */
export class OpenCallRecovery {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly sink: StreamSink,
    private readonly options: RecoveryOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

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
      return await this.recover();
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'billing: heartbeat/recovery failed, will retry');
      return 0;
    }
  }

  async heartbeat(): Promise<void> {
    const now = this.now();
    await this.redis
      .multi()
      .set(this.keys.billingAlive(this.options.owner), String(now), 'PX', this.options.livenessTtlMs)
      .hset(this.keys.billingHeartbeats, this.options.owner, String(now))
      .exec();
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

  private async recoverOnce(): Promise<number> {
    const registry = await this.redis.hgetall(this.keys.billingHeartbeats);
    let closed = 0;
    for (const [owner, lastBeat] of Object.entries(registry)) {
      if (owner === this.options.owner) continue;
      const earlierLife = instanceOf(owner) === this.options.instanceId;
      const alive = (await this.redis.exists(this.keys.billingAlive(owner))) === 1;
      if (alive && !earlierLife) continue;
      if (alive) {
        this.logger.warn({ owner }, 'billing: closing the calls of an earlier life of this instance whose liveness key has not expired yet; INSTANCE_ID must be unique per running process');
      }
      closed += await this.closeOwner(owner, Number(lastBeat) || null, earlierLife);
    }
    return closed;
  }

  private async closeOwner(owner: string, lastBeat: number | null, force: boolean): Promise<number> {
    const open = await this.redis.hgetall(this.keys.billingOpen(owner));
    const ops: SinkOp[] = [];
    for (const [callId, json] of Object.entries(open)) {
      const parsed = callAnsweredSchema.safeParse(safeJson(json));
      if (!parsed.success) {
        this.logger.error({ owner, callId, problem: parsed.error.message }, 'billing: unreadable open-call record left in Redis');
        continue;
      }
      ops.push({ mode: 'reap', owner, force, event: callEndedByRecovery(parsed.data, lastBeat, this.options.instanceId) });
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
