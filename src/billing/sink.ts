import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { billingShardOf, type BillingShard, type RedisKeys } from '../stores/keys.js';
import { callCorrected } from './events.js';
import type { RedisClient } from '../stores/redis.js';
import { APPEND_LUA, APPEND_RESULTS, RETIRE_LUA } from './scripts.js';
import type { SinkOp } from './sinkOp.js';
import type { Spool } from './spool.js';

export interface SinkOptions {
  /** the stream's shards (a call's events all go to shard billingShardOf(call id)) */
  readonly shards: readonly BillingShard[];
  /** XADD MAXLEN ~ cap; 0 = no trimming */
  readonly maxlen: number;
  readonly dedupeTtlMs: number;
  readonly batchSize: number;
  /** ms a new event waits for others to share its round trip (0 = next turn of the event loop) */
  readonly lingerMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/** What Redis said about one op (see APPEND_LUA), or an error. */
export type AppendResult = number | Error;

interface BillingCommands {
  /** numkeys, KEYS, ARGV as APPEND_LUA describes; one result per event */
  sipEdgeBillingAppend(...args: (string | number)[]): Promise<unknown>;
  sipEdgeBillingRetire(...args: string[]): Promise<number>;
}

const RESULT_LABEL: Readonly<Record<number, string>> = {
  [APPEND_RESULTS.appended]: 'appended',
  [APPEND_RESULTS.duplicate]: 'duplicate',
  [APPEND_RESULTS.closed]: 'superseded',
};

/**
 * The billing event sink: `enqueue` is synchronous and O(1) (the SIP path never waits on Redis);
 * one background pump appends queued ops to the Redis stream in order, a batch per script call
 * (the first event of a batch waits `lingerMs` for company).
 * When Redis fails, the queue goes to the local spool and the pump retries with exponential
 * backoff (and at once when the connection is ready again), replaying the spool in order before
 * anything newer. Nothing is dropped: ops leave the queue or the spool only when Redis answered.
 */
export class StreamSink {
  private readonly queue: SinkOp[] = [];
  private pumping = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: SinkOptions,
    private readonly spool: Spool,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.delayMs = options.retryMinMs;
    redis.defineCommand('sipEdgeBillingAppend', { lua: APPEND_LUA }); // numkeys varies with the batch
    redis.defineCommand('sipEdgeBillingRetire', { numberOfKeys: 2, lua: RETIRE_LUA });
    redis.on('ready', () => this.retryNow());
  }

  /** Queues an op; returns at once. */
  enqueue(op: SinkOp): void {
    this.queue.push(op);
    if (this.stopped) this.spill(); // a late event after stop(): kept for the next start
    else this.kick();
  }

  /** Events not yet in Redis (memory queue + spool). */
  get backlog(): number {
    return this.queue.length + this.spool.pending;
  }

  /** Resolves true once everything queued or spooled is in Redis, false after timeoutMs. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.backlog === 0 && !this.pumping) return Promise.resolve(true);
    this.retryNow();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Stops the pump; whatever is still queued goes to the spool for the next run. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.spill();
    this.spool.close();
  }

  /**
   * Runs ops now, without queueing (recovery uses it directly): one script call per stream shard,
   * the shards at once; errors are returned per op.
   */
  async run(ops: readonly SinkOp[]): Promise<AppendResult[]> {
    const results: AppendResult[] = new Array<AppendResult>(ops.length);
    const byShard = new Map<number, number[]>();
    ops.forEach((op, i) => {
      const shard = billingShardOf(op.event.call_id, this.options.shards.length);
      const at = byShard.get(shard);
      if (at) at.push(i);
      else byShard.set(shard, [i]);
    });
    await Promise.all([...byShard].map(async ([shard, at]) => {
      const replies = await this.runShard(this.options.shards[shard]!, at.map((i) => ops[i]!));
      at.forEach((i, j) => (results[i] = replies[j]!));
    }));
    return results;
  }

  private async runShard(shard: BillingShard, ops: readonly SinkOp[]): Promise<AppendResult[]> {
    const keys: string[] = [shard.stream, shard.owners];
    const argv: (string | number)[] = [this.options.maxlen, this.options.dedupeTtlMs];
    for (const op of ops) {
      const e = op.event;
      keys.push(shard.seen(e.call_id), shard.open(op.owner));
      argv.push(e.type, e.idempotency_key, JSON.stringify(e), op.mode, e.call_id, op.owner);
    }
    let replies: unknown;
    try {
      replies = await (this.redis as unknown as BillingCommands).sipEdgeBillingAppend(keys.length, ...keys, ...argv);
    } catch (err) {
      return ops.map(() => err as Error);
    }
    if (!Array.isArray(replies) || replies.length !== ops.length) {
      const err = new Error(`billing append: ${ops.length} events, unexpected reply ${JSON.stringify(replies)?.slice(0, 100)}`);
      return ops.map(() => err);
    }
    return ops.map((op, i) => {
      const result = Number(replies[i]);
      this.metrics.billingEvents.inc({ type: op.event.type, result: RESULT_LABEL[result] ?? 'unknown' });
      if (result === APPEND_RESULTS.closed && op.mode === 'close' && op.event.type === 'call.ended') {
        // A peer took this instance for dead and closed the call up to its last heartbeat: state
        // the real end (see callCorrected); it goes out after what is queued now.
        this.logger.warn({ callId: op.event.call_id }, 'billing: call was closed by a peer\'s recovery while this instance was alive; appending call.corrected');
        this.queue.push({ mode: 'plain', owner: op.owner, event: callCorrected(op.event) });
      }
      return result;
    });
  }

  /** Forgets an owner that holds no open call in any shard; true when it is gone from every shard. */
  async retire(owner: string): Promise<boolean> {
    const commands = this.redis as unknown as BillingCommands;
    const retired = await Promise.all(this.options.shards.map((shard) => commands.sipEdgeBillingRetire(shard.open(owner), shard.owners, owner)));
    if (retired.some((r) => r !== 1)) return false;
    await this.redis.hdel(this.keys.billingHeartbeats, owner);
    return true;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.retryTimer) {
      // Redis is failing: keep new events on disk rather than in memory, off the caller's stack.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (this.retryTimer) this.spill();
        });
      }
      return;
    }
    if (this.pumping || this.scheduled) return;
    this.scheduled = true;
    const pump = (): void => {
      this.scheduled = false;
      void this.pump();
    };
    if (this.options.lingerMs > 0 && this.queue.length < this.options.batchSize) setTimeout(pump, this.options.lingerMs);
    else setImmediate(pump);
  }

  /** Tries Redis now (e.g. to replay a spool adopted at start). */
  resume(): void {
    this.retryNow();
  }

  private retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.kick();
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      while (!this.stopped) {
        const ok = this.spool.pending > 0 ? await this.replaySpool() : await this.sendQueue();
        if (ok === null) break; // nothing left
        if (!ok) {
          this.spill();
          this.scheduleRetry();
          return;
        }
        this.delayMs = this.options.retryMinMs;
      }
    } catch (err) {
      // A spool (disk) failure: events stay in memory and are tried again.
      this.logger.error({ err }, 'billing: spool failed; events kept in memory');
      this.scheduleRetry();
      return;
    } finally {
      this.pumping = false;
    }
    if (this.backlog === 0) for (const w of this.idleWaiters.splice(0)) w();
    else this.kick();
  }

  /** true = a batch went through, false = Redis failed, null = queue empty. */
  private async sendQueue(): Promise<boolean | null> {
    if (this.queue.length === 0) return null;
    const ops = this.queue.slice(0, this.options.batchSize);
    const done = this.countDone(ops, await this.run(ops));
    this.queue.splice(0, done);
    return done === ops.length;
  }

  private async replaySpool(): Promise<boolean | null> {
    this.spill(); // the memory queue is newer than the spool: keep the order
    const batch = this.spool.read(this.options.batchSize);
    if (!batch) return null;
    const done = this.countDone(batch.ops, await this.run(batch.ops));
    batch.commit(done);
    if (done === batch.ops.length && this.spool.pending === 0) this.logger.info('billing: spool replayed');
    return done === batch.ops.length;
  }

  /** How many ops from the start Redis took (an op after a failed one is retried, even if it went through). */
  private countDone(ops: readonly SinkOp[], results: readonly AppendResult[]): number {
    const failed = results.findIndex((r) => r instanceof Error);
    if (failed < 0) return ops.length;
    this.metrics.billingAppendFailures.inc();
    const err = results[failed] as Error;
    const fields = { err: { message: err.message }, pending: this.backlog, retryInMs: this.delayMs, redis: this.redis.status };
    // Not connected yet (start-up, reconnecting) is routine; a failure on a ready connection is not.
    if (this.redis.status === 'ready') this.logger.warn(fields, 'billing: append to Redis failed, spooling');
    else this.logger.info(fields, 'billing: Redis not connected, spooling');
    return failed;
  }

  private spill(): void {
    if (this.queue.length === 0) return;
    const ops = this.queue.splice(0);
    try {
      this.spool.append(ops);
      this.metrics.billingSpooled.inc(ops.length);
    } catch (err) {
      this.queue.unshift(...ops);
      this.logger.error({ err, events: ops.length }, 'billing: cannot write the spool; events kept in memory');
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.options.retryMaxMs, this.delayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }
}
