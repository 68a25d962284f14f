import NodeCache from 'node-cache';
import type { Config } from '../config/schema.js';
import type { AgentRecord, PhoneNumberRecord, TrunkRecord } from '../domain/model.js';
import { CidrMatcher } from '../domain/cidr.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { decodeInvalidation, type Invalidation, type RedisKeys } from './keys.js';
import { getMany, isCluster, type RedisClient } from './redis.js';
import { keySlot } from './slots.js';

/** Messages on the invalidation channel that start with this are subscription checks, not invalidations. */
const PING = 'ping|';

/** found: the record; absent: Redis says there is none; unavailable: Redis failed and nothing is cached. */
export type Lookup<T> =
  | { readonly status: 'found'; readonly value: T; readonly source: LookupSource }
  | { readonly status: 'absent'; readonly source: LookupSource }
  | { readonly status: 'unavailable'; readonly error: Error };
export type LookupSource = 'cache' | 'redis' | 'stale';

/** Every trunk, with the source-address matcher built from their CIDRs. Replaced whole on change. */
export interface TrunkTable {
  readonly byId: ReadonlyMap<string, TrunkRecord>;
  readonly bySource: CidrMatcher<TrunkRecord>;
}

export function buildTrunkTable(trunks: readonly TrunkRecord[]): TrunkTable {
  const bySource = new CidrMatcher<TrunkRecord>();
  for (const trunk of trunks) for (const cidr of trunk.inbound.allowed_cidrs) bySource.add(cidr, trunk);
  return { byId: new Map(trunks.map((t) => [t.id, t])), bySource };
}

/** Reads a record's JSON from Redis by key (null: no such key). */
export type RecordReader = (redisKey: string) => Promise<string | null>;

/** What the SIP path reads: numbers and agents by key, trunks from memory. */
export interface RouteStore {
  /** `read` replaces the GET of a cache miss (the limiter's lookup that also admits the call). */
  number(e164: string, read?: RecordReader): Promise<Lookup<PhoneNumberRecord>>;
  agent(id: string): Promise<Lookup<AgentRecord>>;
  trunks(): TrunkTable;
}

interface Entry {
  readonly value: unknown;
  readonly at: number;
  readonly epoch: number;
}

export interface RedisRouteStoreOptions {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly maxKeys: number;
  /** How often the store proves its subscription by a ping through the channel (0 = never). */
  readonly subscriptionCheckMs?: number;
  /** How often a server whose read failed is probed (PING) while lookups to it fail fast. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

/** The store's options from the `cache:` section of the configuration. */
export function routeStoreOptions(cache: Config['cache']): RedisRouteStoreOptions {
  return { ttlMs: cache.ttl_s * 1000, negativeTtlMs: cache.negative_ttl_s * 1000, maxKeys: cache.max_keys, subscriptionCheckMs: cache.subscription_check_ms };
}

/**
 * Route store over Redis with an in-process cache. Admin writes publish invalidations that every
 * instance applies at once. The subscription is proven by a ping this store publishes on the
 * channel every `subscriptionCheckMs` and must hear back within two periods: a ping missed (the
 * subscriber's node died, hung, or ioredis moved the cluster subscription to another node) means
 * invalidations may have been lost, and when pings come back the whole cache is invalidated
 * (every entry revalidated on next use; still served as last-known-good while Redis fails).
 * While Redis fails, cached entries are served as last-known-good whatever their age, and
 * uncached lookups fail at once: after a failed read, lookups that would go to the same server
 * (the key's master on a cluster) answer `unavailable` without waiting, while a PING every
 * `retryMs` probes that server; the first PING that succeeds reopens it.
 */
export class RedisRouteStore implements RouteStore {
  private readonly cache: NodeCache;
  private readonly inflight = new Map<string, Promise<Lookup<unknown>>>();
  /** Keys invalidated while a read of them was in flight: that read must not be cached. */
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<(inv: Invalidation) => void>();
  private table: TrunkTable = buildTrunkTable([]);
  private epoch = 0;
  private subscribedOnce = false;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private readonly now: () => number;
  /** servers (a cluster master, or "redis") whose last read failed, with the timer probing them */
  private readonly down = new Map<string, NodeJS.Timeout>();
  private subscriptionOk = false;
  private subscriptionWhy = 'not subscribed yet';
  private readonly pingToken = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  private pingSeq = 0;
  /** ping seq -> deadline (ms) */
  private readonly pings = new Map<number, number>();
  private pingTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: RedisRouteStoreOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.cache = new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false, maxKeys: options.maxKeys });
    this.now = options.now ?? Date.now;
  }

  /** Subscribes to invalidations and loads the trunk table; resolves when both are done. */
  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.keys.invalidations) return;
      if (message.startsWith(PING)) this.pong(message);
      else this.apply(message);
    });
    this.subscriber.on('ready', () => {
      if (!this.subscribedOnce) return;
      // Invalidations may have been missed while disconnected: revalidate everything lazily.
      this.invalidateAll('resubscribed');
    });
    await this.subscriber.subscribe(this.keys.invalidations);
    this.subscribedOnce = true;
    this.subscriptionOk = true;
    this.subscriptionWhy = 'subscribed';
    await this.reloadTrunks();
    const every = this.options.subscriptionCheckMs ?? 0;
    if (every > 0 && !this.pingTimer) {
      this.pingTimer = setInterval(() => void this.ping(every), every);
      this.pingTimer.unref();
    }
  }

  stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    for (const timer of this.down.values()) clearInterval(timer);
    this.down.clear();
  }

  /** Lookups to `server` fail fast from now until a PING to it succeeds. */
  private markDown(server: string, error: Error): void {
    if (this.down.has(server)) return;
    this.logger.warn({ server, err: { message: error.message } }, 'route store: redis unavailable; uncached lookups fail fast until it answers');
    let probing = false;
    const timer = setInterval(() => {
      if (probing) return;
      probing = true;
      this.probe(server)
        .then((ok) => {
          if (!ok || this.down.get(server) !== timer) return;
          clearInterval(timer);
          this.down.delete(server);
          this.logger.info({ server }, 'route store: redis answers again');
        })
        .finally(() => {
          probing = false;
        });
    }, this.options.retryMs ?? 250);
    timer.unref();
    this.down.set(server, timer);
  }

  /** PING the server; a cluster node no longer in the client's pool counts as answered (its slots moved). */
  private async probe(server: string): Promise<boolean> {
    try {
      if (!isCluster(this.redis)) {
        await this.redis.ping();
        return true;
      }
      const node = this.redis.nodes().find((n) => `${n.options.host}:${n.options.port}` === server);
      if (node) await node.ping();
      return true;
    } catch {
      return false;
    }
  }

  /** Whether invalidations are known to arrive (readiness), and why not. */
  get subscription(): { readonly ok: boolean; readonly detail: string } {
    return { ok: this.subscriptionOk, detail: this.subscriptionWhy };
  }

  /** The servers uncached lookups currently fail fast for (readiness detail). */
  get unavailableServers(): string[] {
    return [...this.down.keys()];
  }

  /** Every cached entry is revalidated on next use (kept as last-known-good meanwhile); trunks reload. */
  invalidateAll(why: string): void {
    this.epoch++;
    this.logger.info({ epoch: this.epoch, why }, 'route cache: every entry will be revalidated');
    void this.reloadTrunks();
  }

  private async ping(periodMs: number): Promise<void> {
    const now = Date.now();
    for (const [seq, deadline] of this.pings) {
      if (deadline >= now) continue;
      this.pings.delete(seq);
      this.lostSubscription('a subscription check did not come back');
    }
    const seq = ++this.pingSeq;
    this.pings.set(seq, now + 2 * periodMs);
    try {
      await this.redis.publish(this.keys.invalidations, `${PING}${this.pingToken}:${seq}`);
    } catch (err) {
      this.pings.delete(seq);
      this.lostSubscription(`subscription check not sent: ${(err as Error).message}`);
    }
  }

  private pong(message: string): void {
    const [token, seq] = message.slice(PING.length).split(':');
    if (token !== this.pingToken) return; // another instance's check
    this.pings.delete(Number(seq));
    if (this.subscriptionOk) return;
    this.subscriptionOk = true;
    this.subscriptionWhy = 'subscribed';
    // Invalidations published while it was lost may never arrive.
    this.invalidateAll('subscription re-established');
  }

  private lostSubscription(why: string): void {
    if (this.subscriptionOk) this.logger.warn({ why }, 'route cache: subscription lost; invalidations may be missed');
    this.subscriptionOk = false;
    this.subscriptionWhy = why;
  }

  /** The server a key's read goes to: its master on a cluster (as the client knows it), else the one server. */
  private serverOf(redisKey: string): string {
    return isCluster(this.redis) ? (this.redis.slots[keySlot(redisKey)]?.[0] ?? 'unmapped') : 'redis';
  }

  /** Called with every invalidation once it has been applied (tests and metrics use it). */
  onInvalidation(listener: (inv: Invalidation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  trunks(): TrunkTable {
    return this.table;
  }

  number(e164: string, read?: RecordReader): Promise<Lookup<PhoneNumberRecord>> {
    return this.lookup('number', e164, this.keys.number(e164), read) as Promise<Lookup<PhoneNumberRecord>>;
  }

  agent(id: string): Promise<Lookup<AgentRecord>> {
    return this.lookup('agent', id, this.keys.agent(id)) as Promise<Lookup<AgentRecord>>;
  }

  get cachedEntries(): number {
    return this.cache.keys().length;
  }

  private async lookup(kind: 'number' | 'agent', id: string, redisKey: string, read?: RecordReader): Promise<Lookup<unknown>> {
    const cacheKey = `${kind}:${id}`;
    const entry = this.cache.get<Entry>(cacheKey);
    if (entry && this.fresh(entry)) {
      this.metrics.cacheLookups.inc({ kind, result: 'hit' });
      return entry.value === null ? { status: 'absent', source: 'cache' } : { status: 'found', value: entry.value, source: 'cache' };
    }
    const pending = this.inflight.get(cacheKey);
    if (pending) return pending;
    const fetching = this.fetch(kind, cacheKey, redisKey, read).finally(() => {
      this.inflight.delete(cacheKey);
      this.dirty.delete(cacheKey);
    });
    this.inflight.set(cacheKey, fetching);
    return fetching;
  }

  private async fetch(kind: 'number' | 'agent', cacheKey: string, redisKey: string, read?: RecordReader): Promise<Lookup<unknown>> {
    const epoch = this.epoch;
    const server = this.serverOf(redisKey);
    if (this.redis.status !== 'ready' || this.down.has(server)) {
      // Known unavailable: answer now rather than wait for the command timeout.
      return this.unavailable(kind, cacheKey, new Error(this.redis.status !== 'ready' ? `redis ${this.redis.status}` : `redis ${server} unavailable`));
    }
    const started = process.hrtime.bigint();
    let raw: string | null;
    try {
      raw = await (read ? read(redisKey) : this.redis.get(redisKey));
    } catch (err) {
      this.markDown(server, err as Error);
      return this.unavailable(kind, cacheKey, err as Error);
    }
    this.metrics.redisSeconds.observe({ operation: `get_${kind}` }, Number(process.hrtime.bigint() - started) / 1e9);
    try {
      const value: unknown = raw === null ? null : JSON.parse(raw);
      // Cache only if no invalidation (of this key, or a resubscription) arrived while we read.
      if (epoch === this.epoch && !this.dirty.has(cacheKey)) this.remember(cacheKey, value, epoch);
      this.metrics.cacheLookups.inc({ kind, result: 'miss' });
      return value === null ? { status: 'absent', source: 'redis' } : { status: 'found', value, source: 'redis' };
    } catch (err) {
      return this.unavailable(kind, cacheKey, err as Error);
    }
  }

  /** What a failed read answers: the last-known-good entry if any, else unavailable. */
  private unavailable(kind: 'number' | 'agent', cacheKey: string, error: Error): Lookup<unknown> {
    const stale = this.cache.get<Entry>(cacheKey);
    if (stale) {
      this.metrics.cacheLookups.inc({ kind, result: 'stale' });
      return stale.value === null ? { status: 'absent', source: 'stale' } : { status: 'found', value: stale.value, source: 'stale' };
    }
    this.metrics.cacheLookups.inc({ kind, result: 'unavailable' });
    return { status: 'unavailable', error };
  }

  private fresh(entry: Entry): boolean {
    if (entry.epoch !== this.epoch) return false;
    const ttl = entry.value === null ? this.options.negativeTtlMs : this.options.ttlMs;
    return this.now() - entry.at < ttl;
  }

  private remember(cacheKey: string, value: unknown, epoch: number): void {
    try {
      this.cache.set<Entry>(cacheKey, { value, at: this.now(), epoch });
    } catch {
      // ECACHEFULL: serve from Redis without caching rather than fail the call.
    }
  }

  private apply(message: string): void {
    const inv = decodeInvalidation(message);
    if (!inv) {
      this.logger.warn({ message }, 'route cache: ignoring malformed invalidation');
      return;
    }
    if (inv.kind === 'trunk') {
      void this.reloadTrunks().then(() => this.emit(inv));
      return;
    }
    const cacheKey = `${inv.kind}:${inv.key}`;
    this.cache.del(cacheKey);
    // A lookup already in flight may carry the old value: let it finish but not be cached.
    if (this.inflight.has(cacheKey)) this.dirty.add(cacheKey);
    this.emit(inv);
  }

  private emit(inv: Invalidation): void {
    for (const listener of this.listeners) listener(inv);
  }

  /** Reloads every trunk; concurrent requests coalesce into one more reload. Keeps the old table on failure. */
  private reloadTrunks(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const ids = await this.redis.zrange(this.keys.index('trunk'), 0, -1);
          const raws = await getMany(this.redis, ids.map((id) => this.keys.trunk(id)));
          const trunks = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as TrunkRecord);
          this.table = buildTrunkTable(trunks);
        } catch (err) {
          this.logger.warn({ err }, 'route cache: trunk reload failed; keeping the last table');
        }
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }
}
