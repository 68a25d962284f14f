import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { Catalog } from '../../src/stores/catalog.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { RedisHealth } from '../../src/stores/redisHealth.js';
import { RedisRouteStore } from '../../src/stores/routeStore.js';
import { keySlot } from '../../src/stores/slots.js';
import { phoneNumber, testPrefix } from '../helpers/fixtures.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redisCluster.js';

const logger = createLogger('silent');

/**
 * A master of a cluster of the test's own hangs (SIGSTOP) and is failed over (node timeout 5 s):
 * readiness says so at once, uncached lookups for its slots fail fast while the rest keep working,
 * and its slots route again once a replica took over.
 */
describe('route store and readiness through a cluster failover', () => {
  let cluster: RedisCluster;
  const clients: RedisClient[] = [];
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  let main: Cluster;
  let store: RedisRouteStore;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { url: cluster.url, mode: 'cluster', nodes: [...cluster.seeds] } });
    const connect = async (purpose: string): Promise<RedisClient> => {
      const c = createRedis(config.redis, purpose);
      c.on('error', () => undefined);
      await whenReady(c, 10_000);
      clients.push(c);
      return c;
    };
    main = (await connect('test-main')) as Cluster;
    store = new RedisRouteStore(main, await connect('test-sub'), keys, { ttlMs: 60_000, negativeTtlMs: 60_000, maxKeys: 10_000, subscriptionCheckMs: 500 }, createMetrics(), logger);
    await store.start();
  }, 60_000);
  afterAll(async () => {
    store?.stop();
    clients.forEach((c) => c.disconnect());
    await cluster?.stop();
  });

  it('a hung master: /readyz names it, its uncached lookups fail fast, others work, and it routes again after the failover', async () => {
    const catalog = new Catalog(main, keys);
    const numbers = Array.from({ length: 60 }, (_, i) => phoneNumber({ id: `num_fo_${i}`, phone_number: `+1555300${String(i).padStart(4, '0')}`, status: 'active' }));
    await catalog.importNumbers(numbers);
    // Replication is asynchronous: let every master's replica have the writes before one hangs.
    await cluster.waitReplicated(10_000);
    const health = new RedisHealth(main, 'cluster', 500, logger);
    expect(await health.probe()).toMatchObject({ ok: true });

    const ownerOf = (e164: string): string => main.slots[keySlot(keys.number(e164))]![0]!;
    const victim = ownerOf(numbers[0]!.phone_number);
    const onVictim = numbers.filter((n) => ownerOf(n.phone_number) === victim).map((n) => n.phone_number);
    const elsewhere = numbers.filter((n) => ownerOf(n.phone_number) !== victim).map((n) => n.phone_number);
    expect(onVictim.length).toBeGreaterThan(5);
    const port = Number(victim.split(':')[1]);

    const pausedAt = Date.now();
    cluster.pause(port);
    try {
      await expect.poll(async () => (await health.probe()).detail, { timeout: 5000, interval: 200 }).toContain(`${port} not answering`);
      expect(health.state.ok).toBe(false);

      // The first lookup on the hung master finds out; the next ones answer at once.
      expect((await store.number(onVictim[0]!)).status).toBe('unavailable');
      for (const e164 of onVictim.slice(1, 6)) {
        const t0 = performance.now();
        expect((await store.number(e164)).status).toBe('unavailable');
        expect(performance.now() - t0).toBeLessThan(50);
      }
      // Numbers on the other masters are still read (not cached before).
      expect((await store.number(elsewhere[0]!)).status).toBe('found');

      // A replica takes over after the node timeout; the client learns the new slot map.
      await expect.poll(async () => (await health.probe()).ok, { timeout: 40_000, interval: 500 }).toBe(true);
      await expect.poll(async () => (await store.number(onVictim[6]!)).status, { timeout: 15_000, interval: 250 }).toBe('found');
      const routedAgainS = (Date.now() - pausedAt) / 1000;
      console.log(`cluster failover: numbers of the hung master route again after ${routedAgainS.toFixed(1)} s (cluster-node-timeout 5 s)`);
      expect(routedAgainS).toBeLessThan(30);
    } finally {
      cluster.resume(port);
    }
  }, 90_000);
});
