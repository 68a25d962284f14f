import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Catalog } from '../../src/stores/catalog.js';
import { redisKeys, type Invalidation } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { RedisRouteStore } from '../../src/stores/routeStore.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { configSchema } from '../../src/config/schema.js';
import { agent, phoneNumber, testPrefix, trunk } from '../helpers/fixtures.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { redisSection } from '../helpers/testRedis.js';

const logger = createLogger('silent');

function redisConfig(url: string) {
  return configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: redisSection(url, { command_timeout_ms: 200 }) }).redis;
}

async function connect(url: string, purpose: string): Promise<RedisClient> {
  const client = createRedis(redisConfig(url), purpose);
  await whenReady(client, 5000);
  return client;
}

interface Instance {
  store: RedisRouteStore;
  clients: RedisClient[];
}

async function instance(url: string, prefix: string, ttlMs = 60_000): Promise<Instance> {
  const main = await connect(url, 'test-main');
  const sub = await connect(url, 'test-sub');
  const store = new RedisRouteStore(main, sub, redisKeys(prefix), { ttlMs, negativeTtlMs: ttlMs, maxKeys: 1000 }, createMetrics(), logger);
  await store.start();
  return { store, clients: [main, sub] };
}

function nextInvalidation(store: RedisRouteStore, key: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no invalidation for ${key} within ${timeoutMs} ms`)), timeoutMs);
    const off = store.onInvalidation((inv: Invalidation) => {
      if (inv.key !== key) return;
      clearTimeout(timer);
      off();
      resolve(performance.now());
    });
  });
}

describe('route store against a shared Redis', () => {
  const url = inject('redisUrl');
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  const opened: RedisClient[] = [];
  let catalog: Catalog;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    const admin = await connect(url, 'test-admin');
    opened.push(admin);
    catalog = new Catalog(admin, keys);
    a = await instance(url, prefix);
    b = await instance(url, prefix);
    opened.push(...a.clients, ...b.clients);
  });
  afterAll(() => opened.forEach((c) => c.disconnect()));

  it('serves a number from Redis, then from cache', async () => {
    const ag = await catalog.createAgent(agent());
    const published = nextInvalidation(a.store, '+15550002001', 1000);
    await catalog.createNumber(phoneNumber({ phone_number: '+15550002001', inbound_routing: { agent_id: ag.id } }));
    await published;
    const first = await a.store.number('+15550002001');
    const second = await a.store.number('+15550002001');
    expect(first).toMatchObject({ status: 'found', source: 'redis' });
    expect(second).toMatchObject({ status: 'found', source: 'cache' });
    expect(await a.store.number('+15550002999')).toEqual({ status: 'absent', source: 'redis' });
  });

  it('reads a cache miss through the given reader (the admission script), and a hit without it', async () => {
    const published = nextInvalidation(a.store, '+15550002010', 1000);
    const num = await catalog.createNumber(phoneNumber({ phone_number: '+15550002010' }));
    await published;
    const read: string[] = [];
    const reader = async (key: string): Promise<string | null> => {
      read.push(key);
      return a.clients[0]!.get(key);
    };
    expect(await a.store.number(num.phone_number, reader)).toMatchObject({ status: 'found', source: 'redis', value: { id: num.id } });
    expect(await a.store.number(num.phone_number, reader)).toMatchObject({ status: 'found', source: 'cache' });
    expect(read).toEqual([keys.number(num.phone_number)]);
  });

  it('invalidates a changed number on every instance within 100 ms', async () => {
    const created = Promise.all([nextInvalidation(a.store, '+15550002002', 1000), nextInvalidation(b.store, '+15550002002', 1000)]);
    const num = await catalog.createNumber(phoneNumber({ phone_number: '+15550002002', status: 'active' }));
    await created;
    // Both instances hold the number in cache.
    await a.store.number(num.phone_number);
    await b.store.number(num.phone_number);
    expect(await b.store.number(num.phone_number)).toMatchObject({ source: 'cache', value: { status: 'active' } });

    const seenA = nextInvalidation(a.store, num.phone_number, 1000);
    const seenB = nextInvalidation(b.store, num.phone_number, 1000);
    const written = performance.now();
    await catalog.replaceNumber(num.id, (current) => ({ ...current, status: 'suspended' }));
    const [atA, atB] = await Promise.all([seenA, seenB]);

    expect(atA - written).toBeLessThan(100);
    expect(atB - written).toBeLessThan(100);
    for (const store of [a.store, b.store]) {
      expect(await store.number(num.phone_number)).toMatchObject({ status: 'found', source: 'redis', value: { status: 'suspended' } });
    }
  });

  it('forgets a cached "absent" when the number is created', async () => {
    expect(await a.store.number('+15550002003')).toMatchObject({ status: 'absent' });
    expect(await a.store.number('+15550002003')).toMatchObject({ status: 'absent', source: 'cache' });
    const seen = nextInvalidation(a.store, '+15550002003', 1000);
    await catalog.createNumber(phoneNumber({ phone_number: '+15550002003' }));
    await seen;
    expect(await a.store.number('+15550002003')).toMatchObject({ status: 'found', source: 'redis' });
  });

  it('reloads the trunk table when a trunk changes', async () => {
    const t = await catalog.createTrunk(trunk({ inbound: { allowed_cidrs: ['127.0.0.42/32'] } }));
    await expect.poll(() => b.store.trunks().bySource.match('127.0.0.42')?.id, { timeout: 1000 }).toBe(t.id);
    const seen = nextInvalidation(b.store, t.id, 1000);
    await catalog.replaceTrunk(t.id, (cur) => ({ ...cur, inbound: { ...cur.inbound, allowed_cidrs: ['::1/128'] } }));
    await seen;
    expect(b.store.trunks().bySource.match('127.0.0.42')).toBeUndefined();
    expect(b.store.trunks().bySource.match('::1')?.id).toBe(t.id);
  });
});

describe('route store while Redis is down', () => {
  let server: RedisServer;
  let inst: Instance;
  let catalog: Catalog;
  let admin: RedisClient;
  const prefix = testPrefix();

  beforeAll(async () => {
    server = await startRedisServer();
    admin = await connect(server.url, 'test-admin');
    catalog = new Catalog(admin, redisKeys(prefix));
    // Entries go stale after 1 ms, so every lookup below tries Redis first.
    inst = await instance(server.url, prefix, 1);
  });
  afterEach(async () => {
    if (admin.status !== 'ready') {
      await server.start();
      await whenReady(admin, 5000);
    }
  });
  afterAll(async () => {
    admin.disconnect();
    inst.clients.forEach((c) => c.disconnect());
    await server.stop();
  });

  it('serves last-known-good numbers, answers "unavailable" fast for the rest, recovers after restart', async () => {
    await catalog.createNumber(phoneNumber({ phone_number: '+15550003001' }));
    await catalog.createNumber(phoneNumber({ phone_number: '+15550003002' }));
    expect(await inst.store.number('+15550003001')).toMatchObject({ status: 'found' });

    await server.stop();
    await expect.poll(() => inst.clients[0]!.status, { timeout: 2000 }).not.toBe('ready');

    // The entry is past its TTL; with Redis failing it is served as last-known-good.
    expect(await inst.store.number('+15550003001')).toMatchObject({ status: 'found', source: 'stale' });

    const started = performance.now();
    const uncached = await inst.store.number('+15550003002');
    expect(uncached.status).toBe('unavailable');
    expect(performance.now() - started).toBeLessThan(100);

    // Redis comes back empty (no persistence): what the admin writes now is served again.
    await server.start();
    await whenReady(inst.clients[0]!, 5000);
    await whenReady(admin, 5000);
    await catalog.createNumber(phoneNumber({ phone_number: '+15550003003' }));
    expect(await inst.store.number('+15550003003')).toMatchObject({ status: 'found', source: 'redis' });
    expect(await inst.store.number('+15550003001')).toMatchObject({ status: 'absent', source: 'redis' });
  });
});
