/**
 * Route-lookup micro-benchmark: RedisRouteStore.number() as the call path uses it (node-cache in
 * front of one Redis GET + JSON.parse), one lookup at a time, over a Redis holding every number.
 * First pass over `samples` random numbers: cache misses; second pass over the same: cache hits.
 */
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady } from '../../src/stores/redis.js';
import { RedisRouteStore, routeStoreOptions } from '../../src/stores/routeStore.js';
import { numberAt, randomIndices } from './seed.js';
import { distribution, type Distribution } from './stats.js';

export interface LookupResult {
  readonly samples: number;
  /** microseconds */
  readonly miss: Distribution;
  readonly hit: Distribution;
  readonly notFound: number;
  readonly missesPerSecond: number;
  readonly hitsPerSecond: number;
}

export async function lookupBenchmark(o: { redisUrl: string; keyPrefix: string; total: number; samples: number }): Promise<LookupResult> {
  const config = parseConfig({ admin: { token: 'bench-lookup-token-0000' }, redis: { url: o.redisUrl, key_prefix: o.keyPrefix } });
  const redis = createRedis(config.redis, 'bench-lookup');
  const subscriber = createRedis(config.redis, 'bench-lookup-sub');
  try {
    await whenReady(redis, 5_000);
    await whenReady(subscriber, 5_000);
    const store = new RedisRouteStore(
      redis,
      subscriber,
      redisKeys(o.keyPrefix),
      routeStoreOptions(config.cache),
      createMetrics(),
      createLogger('silent'),
    );
    await store.start();
    const all = randomIndices(o.total, o.samples + 2_000);
    const warm = all.slice(o.samples).map(numberAt);
    const sample = all.slice(0, o.samples).map(numberAt);
    for (const e164 of warm) await store.number(e164); // JIT and connection warm-up, other numbers
    let notFound = 0;
    const pass = async (): Promise<{ us: number[]; perSecond: number }> => {
      const us: number[] = new Array(sample.length);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < sample.length; i++) {
        const started = process.hrtime.bigint();
        const found = await store.number(sample[i]!);
        us[i] = Number(process.hrtime.bigint() - started) / 1000;
        if (found.status !== 'found') notFound++;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      return { us, perSecond: sample.length / seconds };
    };
    const miss = await pass();
    const hit = await pass();
    return { samples: o.samples, miss: distribution(miss.us), hit: distribution(hit.us), notFound, missesPerSecond: miss.perSecond, hitsPerSecond: hit.perSecond };
  } finally {
    redis.disconnect();
    subscriber.disconnect();
  }
}
