import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { Catalog } from '../../src/stores/catalog.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { RedisHealth } from '../../src/stores/redisHealth.js';
import { RedisRouteStore } from '../../src/stores/routeStore.js';
import { phoneNumber, testPrefix } from '../helpers/fixtures.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const logger = createLogger('silent');

async function connect(url: string, purpose: string): Promise<RedisClient> {
  const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { url, command_timeout_ms: 250 } });
  const client = createRedis(config.redis, purpose);
  client.on('error', () => undefined);
  await whenReady(client, 5000);
  return client;
}

const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const value = await f();
  return [value, performance.now() - t0];
};

/** A standalone Redis of the test's own, hung (SIGSTOP) or cut off from the subscriber. */
describe('route store when Redis or its subscription fails', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  const clients: RedisClient[] = [];
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  let catalog: Catalog;
  let store: RedisRouteStore;
  let main: RedisClient;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
    main = await connect(server.url, 'test-main');
    // The subscriber alone goes through the proxy.
    const sub = await connect(`redis://127.0.0.1:${proxy.port}/0`, 'test-sub');
    const admin = await connect(server.url, 'test-admin');
    clients.push(main, sub, admin);
    catalog = new Catalog(admin, keys);
    store = new RedisRouteStore(main, sub, keys, { ttlMs: 60_000, negativeTtlMs: 60_000, maxKeys: 1000, subscriptionCheckMs: 200 }, createMetrics(), logger);
    await store.start();
  });
  afterAll(async () => {
    store.stop();
    clients.forEach((c) => c.disconnect());
    await proxy.close();
    await server.stop();
  });

  /** Creates an active number and waits until the store has applied its invalidation (so a read caches it). */
  async function createSeen(e164: string) {
    const seen = new Promise<void>((resolve) => {
      const off = store.onInvalidation((inv) => {
        if (inv.key !== e164) return;
        off();
        resolve();
      });
    });
    const num = await catalog.createNumber(phoneNumber({ phone_number: e164, status: 'active' }));
    await seen;
    return num;
  }

  it('notices a subscription that stops delivering, and revalidates the whole cache once it delivers again', async () => {
    const num = await createSeen('+15550004001');
    expect(await store.number(num.phone_number)).toMatchObject({ source: 'redis' });
    expect(await store.number(num.phone_number)).toMatchObject({ source: 'cache', value: { status: 'active' } });
    expect(store.subscription.ok).toBe(true);

    proxy.stall(); // the subscriber's connection stays open but nothing gets through
    await expect.poll(() => store.subscription.ok, { timeout: 2000, interval: 50 }).toBe(false);
    await catalog.replaceNumber(num.id, (n) => ({ ...n, status: 'suspended' }));
    // Its invalidation is lost: the cache still says active.
    expect(await store.number(num.phone_number)).toMatchObject({ source: 'cache', value: { status: 'active' } });

    proxy.heal();
    await expect.poll(() => store.subscription.ok, { timeout: 3000, interval: 50 }).toBe(true);
    expect(await store.number(num.phone_number)).toMatchObject({ source: 'redis', value: { status: 'suspended' } });
  });

  it('answers uncached lookups at once (< 50 ms) while it knows Redis is unavailable, serves the cache, and recovers', async () => {
    const cached = await createSeen('+15550004101');
    expect(await store.number(cached.phone_number)).toMatchObject({ status: 'found', source: 'redis' });
    const health = new RedisHealth(main, 'standalone', 200, logger);
    expect((await health.probe()).ok).toBe(true);

    server.pause();
    try {
      // The first read finds out (it waits for the command timeout)...
      const [first] = await timed(() => store.number('+15550004199'));
      expect(first.status).toBe('unavailable');
      // ...then the others are answered without waiting (a PING probes in the background).
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => timed(() => store.number(`+155500042${String(i).padStart(2, '0')}`))));
      for (const [lookup, ms] of answers) {
        expect(lookup.status).toBe('unavailable');
        expect(ms).toBeLessThan(50);
      }
      for (let i = 0; i < 5; i++) {
        const [lookup, ms] = await timed(() => store.number('+15550004301'));
        expect(lookup.status).toBe('unavailable');
        expect(ms).toBeLessThan(50);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(await store.number(cached.phone_number)).toMatchObject({ status: 'found' });
      expect(store.unavailableServers).toEqual(['redis']);
      expect((await health.probe()).ok).toBe(false);
    } finally {
      server.resume();
    }
    await expect.poll(async () => (await store.number('+15550004199')).status, { timeout: 3000, interval: 100 }).toBe('absent');
    expect(store.unavailableServers).toEqual([]);
    expect((await health.probe()).ok).toBe(true);
  });
});
