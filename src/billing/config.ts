import { z } from 'zod';
import { PLAN_KINDS, PLAN_RULES, parseIncrements, type Increments, type PlanKind } from './plan.js';

const increments = z
  .string()
  .transform((text, ctx): Increments => {
    const parsed = parseIncrements(text);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: 'must be "minimum/increment" in whole seconds, e.g. "60/1", "60/6", "1/1"' });
      return z.NEVER;
    }
    return parsed;
  });

const DEFAULT_PLANS: Readonly<Record<PlanKind, string>> = {
  managed: '60/1',
  personal: '60/1',
  imported: '1/1',
  byoc: '1/1',
  browser_test: '1/1',
};

const plansSchema = z
  .object({
    managed: increments.prefault(DEFAULT_PLANS.managed),
    personal: increments.prefault(DEFAULT_PLANS.personal),
    imported: increments.prefault(DEFAULT_PLANS.imported),
    byoc: increments.prefault(DEFAULT_PLANS.byoc),
    browser_test: increments.prefault(DEFAULT_PLANS.browser_test),
  })
  .superRefine((plans, ctx) => {
    for (const kind of PLAN_KINDS) {
      const plan = plans[kind];
      // Actual-duration plans only round up; a minimum above one increment would be a first-minute rule.
      if (PLAN_RULES[kind] === 'actual' && plan.minimum_s > plan.increment_s) {
        ctx.addIssue({ code: 'custom', path: [kind], message: `${kind} calls are billed on actual duration: the minimum may not exceed one increment` });
      }
      if (PLAN_RULES[kind] === 'first_minute' && plan.minimum_s < 1) {
        ctx.addIssue({ code: 'custom', path: [kind], message: `${kind} calls follow the first-minute rule: the minimum must be at least 1 s` });
      }
    }
  });

/** The `billing:` section of the configuration. */
export const billingConfigSchema = z
  .object({
    /** Stream name under redis.key_prefix (the full key is prefix + stream). */
    stream: z.string().min(1).regex(/^[^\s{}]+$/, 'must not contain spaces or braces').default('billing:events'),
    /**
     * Number of streams the events are spread over (each call's events stay in one, in order). 1
     * keeps a single stream `prefix+stream`; on Redis Cluster use several (e.g. 16) so billing
     * writes and their dedupe keys spread over every master. Same value on every instance; change
     * it only with every instance stopped.
     */
    stream_shards: z.coerce.number().int().min(1).max(256).default(1),
    /** Approximate cap (XADD MAXLEN ~) on stream entries; 0 = never trim. */
    stream_maxlen: z.coerce.number().int().min(0).default(1_000_000),
    /** "minimum/increment" per plan key; the rule (first minute or actual) is fixed per key. */
    plans: plansSchema.prefault({}),
    /** How often an instance refreshes its liveness key and heartbeat, and looks for dead peers. */
    heartbeat_interval_s: z.coerce.number().int().min(1).max(300).default(5),
    /** An instance whose liveness key is this old is dead: its open calls are closed by others. */
    liveness_ttl_s: z.coerce.number().int().min(2).max(3600).default(20),
    /** How long the edge remembers an appended idempotency key, to skip re-appends on retry or replay. */
    dedupe_ttl_s: z.coerce.number().int().min(60).default(3600),
    /** Local directory of the spool that keeps events while Redis cannot take them. */
    spool_dir: z.string().min(1).default('.run/billing-spool'),
    /** Events per Redis round trip (one script call; Redis runs nothing else meanwhile). */
    batch_size: z.coerce.number().int().min(1).max(1000).default(200),
    /**
     * How long a new event waits for more to share its Redis round trip (0 = at once). Under load
     * this turns three round trips per call into one per many calls (at 20 ms and 300 calls/s,
     * one per ~6 calls); the price is that a kill -9 loses the events of the last linger_ms (a
     * normal stop or a Redis outage loses nothing).
     */
    linger_ms: z.coerce.number().int().min(0).max(1000).default(20),
    retry_min_ms: z.coerce.number().int().min(10).default(100),
    retry_max_ms: z.coerce.number().int().min(10).default(5000),
    /** How long stop() waits for queued events to reach Redis before leaving them in the spool. */
    stop_flush_timeout_ms: z.coerce.number().int().min(0).default(3000),
    /**
     * Which refused attempts become call.rejected events: `attributed` = those matched to a trunk
     * (scanners and unknown sources are only counted in metrics), `all`, or `none`.
     */
    rejected_events: z.enum(['attributed', 'all', 'none']).default('attributed'),
  })
  .superRefine((b, ctx) => {
    if (b.liveness_ttl_s < 2 * b.heartbeat_interval_s) {
      ctx.addIssue({ code: 'custom', path: ['liveness_ttl_s'], message: 'must be at least twice heartbeat_interval_s' });
    }
    if (b.retry_max_ms < b.retry_min_ms) {
      ctx.addIssue({ code: 'custom', path: ['retry_max_ms'], message: 'must be >= retry_min_ms' });
    }
  });

export type BillingConfig = z.infer<typeof billingConfigSchema>;
