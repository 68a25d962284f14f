import type { TrunkRecord } from '../domain/model.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RejectReason } from '../pipeline/reasons.js';
import type { RedisKeys } from '../stores/keys.js';
import type { RedisClient } from '../stores/redis.js';

/**
 * Checks and takes every limit of a call in one Lua call: concurrent calls per trunk and per
 * workspace (sorted sets of leases that expire unless their instance refreshes them, so a dead
 * instance's calls stop counting by themselves) and calls per second (token buckets). Nothing is
 * taken unless every limit passes. Returns 0, or the number of the limit that refused.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local tMax = tonumber(ARGV[5])
local tCps = tonumber(ARGV[6])
local wMax = tonumber(redis.call('HGET', KEYS[5], 'max_concurrent_calls') or ARGV[7])
local wCps = tonumber(redis.call('HGET', KEYS[5], 'max_cps') or ARGV[8])

local function callsFull(key, max)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if max < 0 then return false end
  return redis.call('ZCARD', key) >= max
end
local function tokens(key, rate)
  if rate <= 0 then return nil end
  -- burst: 200 ms worth of calls (at least one), so a limit holds closely over any second
  local cap = math.max(1, rate / 5)
  local b = redis.call('HMGET', key, 't', 'ts')
  local t = tonumber(b[1]) or cap
  local ts = tonumber(b[2]) or now
  return math.min(cap, t + math.max(0, now - ts) * rate / 1000)
end

if callsFull(KEYS[1], tMax) then return 1 end
local tt = tokens(KEYS[2], tCps)
if tt ~= nil and tt < 1 then return 2 end
if callsFull(KEYS[3], wMax) then return 3 end
local wt = tokens(KEYS[4], wCps)
if wt ~= nil and wt < 1 then return 4 end

redis.call('ZADD', KEYS[1], ARGV[3], member)
redis.call('PEXPIRE', KEYS[1], ARGV[4] * 2)
redis.call('ZADD', KEYS[3], ARGV[3], member)
redis.call('PEXPIRE', KEYS[3], ARGV[4] * 2)
if tt ~= nil then
  redis.call('HSET', KEYS[2], 't', tostring(tt - 1), 'ts', ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
end
if wt ~= nil then
  redis.call('HSET', KEYS[4], 't', tostring(wt - 1), 'ts', ARGV[1])
  redis.call('PEXPIRE', KEYS[4], 60000)
end
return 0
`;

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

export interface CallLimiter {
  admit(trunk: TrunkRecord, workspaceId: string, callId: string): Promise<Admission>;
}

interface AdmitClient {
  /** the five KEYS then ARGV, as defined with numberOfKeys: 5 */
  sipEdgeAdmit(...args: (string | number)[]): Promise<number>;
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
    redis.defineCommand('sipEdgeAdmit', { numberOfKeys: 5, lua: ADMIT });
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
    const now = this.now();
    let result: number;
    const started = process.hrtime.bigint();
    try {
      result = await (this.redis as unknown as AdmitClient).sipEdgeAdmit(
        ...keys,
        now,
        member,
        now + this.leaseMs,
        this.leaseMs,
        trunk.limits.max_concurrent_calls ?? -1,
        trunk.limits.max_cps ?? -1,
        this.defaults.max_concurrent_calls ?? -1,
        this.defaults.max_cps ?? -1,
      );
      this.metrics.redisSeconds.observe({ operation: 'limits_admit' }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      // Limits fail open: while Redis is down, calls on cached routes keep working.
      this.metrics.limitChecks.inc({ result: 'unavailable' });
      this.logger.warn({ err: { message: (err as Error).message } }, 'limits unavailable; admitting call');
      return { kind: 'admitted', lease: { release: () => undefined } };
    }
    const refusal = REFUSALS[result];
    if (refusal) {
      this.metrics.limitChecks.inc({ result: refusal });
      return { kind: 'refused', reason: refusal };
    }
    this.metrics.limitChecks.inc({ result: 'admitted' });
    const held: Held = { member, keys: [keys[0]!, keys[2]!] };
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
