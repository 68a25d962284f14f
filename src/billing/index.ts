import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CallInfo, LifecycleListener, RejectedAttempt } from '../calls/lifecycle.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { redisKeys, type RedisKeys } from '../stores/keys.js';
import { createRedis, type RedisClient } from '../stores/redis.js';
import { callAnswered, callEnded, callRejected, callStarted } from './events.js';
import { planFor, planKindOf, type BillingPlan } from './plan.js';
import { OpenCallRecovery, ownerToken } from './recovery.js';
import { StreamSink } from './sink.js';
import { Spool } from './spool.js';

export interface BillingDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** A connection of billing's own is created (and closed by stop()) when none is given. */
  readonly redis?: RedisClient;
  readonly keys?: RedisKeys;
  /** defaults to config.instance_id */
  readonly instanceId?: string;
  readonly now?: () => number;
}

export interface Billing {
  /** Attach to the CallLifecycle: every method only queues and returns. */
  readonly listener: LifecycleListener;
  /** This life of the instance, `<instance_id>~<boot>`, under which its answered calls are tracked. */
  readonly owner: string;
  /** First heartbeat and recovery of calls left open, then both every heartbeat interval. */
  start(): Promise<void>;
  /** Waits (up to billing.stop_flush_timeout_ms) for events to reach Redis; the rest stays spooled. */
  stop(): Promise<void>;
  /** Resolves true once every event so far is in Redis. */
  flush(timeoutMs: number): Promise<boolean>;
  /** One heartbeat + recovery run now; returns the calls it closed. */
  recover(): Promise<number>;
  /** Events not yet in Redis (memory + spool). */
  readonly backlog: number;
}

/**
 * Billing events for every call: a LifecycleListener that turns call lifecycle events into
 * versioned billing events (see events.ts) and appends them to a Redis stream without ever
 * blocking the SIP path, a local spool for Redis outages, and restart recovery of answered calls.
 *
 * Restart recovery needs a stable `instance_id` (INSTANCE_ID): with one, a restarted edge closes
 * its own calls left open at once; without (the default hostname-pid changes every start) they are
 * closed once the dead life's liveness key expires (billing.liveness_ttl_s), by whichever
 * instance runs then. instance_id must be unique among running processes.
 */
export function createBilling(deps: BillingDeps): Billing {
  const { config, metrics } = deps;
  const cfg = config.billing;
  const logger = deps.logger.child({ component: 'billing' });
  const keys = deps.keys ?? redisKeys(config.redis.key_prefix);
  const instanceId = deps.instanceId ?? config.instance_id ?? `${hostname()}-${process.pid}`;
  const owner = ownerToken(instanceId, randomBytes(6).toString('hex'));
  const ownsRedis = deps.redis === undefined;
  const redis = deps.redis ?? createRedis(config.redis, 'billing');
  if (ownsRedis) redis.on('error', (err: Error) => logger.debug({ err: { message: err.message } }, 'billing redis connection error'));

  const shards = keys.billingShards(cfg.stream, cfg.stream_shards);
  const spool = new Spool(cfg.spool_dir, instanceId, logger, (n) => metrics.billingSpoolEvents.set(n));
  spool.open();
  const sink = new StreamSink(
    redis,
    keys,
    {
      shards,
      maxlen: cfg.stream_maxlen,
      dedupeTtlMs: cfg.dedupe_ttl_s * 1000,
      batchSize: cfg.batch_size,
      lingerMs: cfg.linger_ms,
      retryMinMs: cfg.retry_min_ms,
      retryMaxMs: cfg.retry_max_ms,
    },
    spool,
    metrics,
    logger,
  );
  const recovery = new OpenCallRecovery(
    redis,
    keys,
    sink,
    {
      instanceId,
      owner,
      heartbeatIntervalMs: cfg.heartbeat_interval_s * 1000,
      livenessTtlMs: cfg.liveness_ttl_s * 1000,
      batchSize: cfg.batch_size,
      shards,
    },
    metrics,
    logger,
    deps.now,
  );

  const plan = (call: CallInfo): BillingPlan => planFor(planKindOf(call), cfg.plans);
  const wantsRejected = (attempt: RejectedAttempt): boolean =>
    cfg.rejected_events === 'all' || (cfg.rejected_events === 'attributed' && attempt.trunkId !== null);

  const listener: LifecycleListener = {
    started(call) {
      sink.enqueue({ mode: 'plain', owner, event: callStarted(call, plan(call), instanceId) });
    },
    answered(call, answeredAt) {
      sink.enqueue({ mode: 'open', owner, event: callAnswered(call, plan(call), instanceId, answeredAt) });
    },
    ended(call, end) {
      sink.enqueue({ mode: end.answered ? 'close' : 'plain', owner, event: callEnded(call, plan(call), instanceId, end) });
    },
    rejected(attempt) {
      if (wantsRejected(attempt)) sink.enqueue({ mode: 'plain', owner, event: callRejected(attempt, instanceId) });
    },
  };

  return {
    listener,
    owner,
    get backlog() {
      return sink.backlog;
    },
    async start() {
      logger.info({ owner, streams: shards.map((s) => s.stream), spooled: spool.pending }, 'billing starting');
      sink.resume();
      await recovery.tick();
      recovery.start();
    },
    async stop() {
      recovery.stop();
      const flushed = await sink.flush(cfg.stop_flush_timeout_ms);
      sink.stop();
      if (!flushed) logger.warn({ spooled: spool.pending }, 'billing: Redis did not take every event before stop; they stay in the spool for the next start');
      try {
        if (flushed) await recovery.retire();
      } catch {
        // the liveness key expires by itself
      }
      if (ownsRedis) redis.disconnect();
    },
    flush: (timeoutMs) => sink.flush(timeoutMs),
    recover: () => recovery.tick(),
  };
}

export { billableSeconds, planFor, planKindOf, type BillingPlan } from './plan.js';
export { billingEventSchema, SCHEMA_VERSION, type BillingEvent } from './events.js';
