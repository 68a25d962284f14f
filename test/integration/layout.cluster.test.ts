import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { configSchema } from '../../src/config/schema.js';
import { Catalog } from '../../src/stores/catalog.js';
import { CatalogError } from '../../src/stores/catalogErrors.js';
import { checkKeyLayout, redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { keySlot } from '../../src/stores/slots.js';
import { agent, phoneNumber, testPrefix, trunk } from '../helpers/fixtures.js';
import { redisSection, scanAll } from '../helpers/testRedis.js';

/** Runs only in the `integration-cluster` project (a real 3-master + 3-replica Redis Cluster). */
describe('the key layout on a real Redis Cluster', () => {
  let redis: Cluster;
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  const catalog = (): Catalog => new Catalog(redis as RedisClient, keys);

  beforeAll(async () => {
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: redisSection(undefined, { command_timeout_ms: 5000 }) });
    expect(config.redis.mode).toBe('cluster');
    redis = createRedis(config.redis, 'test-layout') as Cluster;
    await whenReady(redis, 10_000);
  });
  afterAll(() => redis.disconnect());

  it('computes the slot of every key as Redis does (CLUSTER KEYSLOT), odd braces included', async () => {
    const samples = [
      keys.number('+15550001001'),
      keys.trunk('a}b'),
      keys.activeCalls('workspace', 'x{y}'),
      keys.billingShards('billing:events', 1)[0]!.seen('c{1}'),
      keys.billingShards('billing:events', 8)[5]!.stream,
      '{}sipedge{x}:num:{+1555}',
      'foo{{bar}}zap',
      'no{close',
      'plain',
    ];
    for (const key of samples) expect(keySlot(key), key).toBe(Number(await redis.cluster('KEYSLOT', key)));
    expect(() => checkKeyLayout(keys, { stream: 'billing:events', shards: 16 })).not.toThrow();
  });

  it('spreads the keys of 6,000 numbers over the 3 masters within ±25 % of each other', async () => {
    const c = catalog();
    const trk = await c.createTrunk(trunk({ workspace_id: 'ws_spread' }));
    const ag = await c.createAgent(agent({ workspace_id: 'ws_spread' }));
    for (let batch = 0; batch < 6; batch++) {
      const numbers = Array.from({ length: 1000 }, (_, i) =>
        phoneNumber({
          id: `num_spread_${batch}_${i}`,
          phone_number: `+1555${String(batch * 1000 + i).padStart(7, '0')}`,
          workspace_id: 'ws_spread',
          trunk_id: trk.id,
          inbound_routing: { agent_id: ag.id },
        }),
      );
      await c.importNumbers(numbers);
    }
    const masters = redis.nodes('master');
    expect(masters).toHaveLength(3);
    const counts = await Promise.all(masters.map(async (m) => (await scanAll(m, `${prefix}*`)).length));
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(6000 * 2);
    const mean = total / 3;
    for (const count of counts) expect(Math.abs(count - mean) / mean, `keys per master ${counts.join(', ')}`).toBeLessThan(0.25);
    // Every number is readable and listable across slots.
    expect((await c.getNumber('num_spread_5_999'))?.phone_number).toBe('+15550005999');
    const page = await c.list('number', null, 200);
    expect(page.items).toHaveLength(200);
    // No write lock is left behind by the two-phase writes.
    expect(await scanAll(redis, `${prefix}lock:*`)).toEqual([]);
  });

  it('concurrent registrations of one number across slots: exactly one wins, the others change nothing', async () => {
    const c = catalog();
    const attempts = Array.from({ length: 8 }, (_, i) => c.createNumber(phoneNumber({ id: `num_race_${i}`, phone_number: '+15559990001', workspace_id: 'ws_race' })));
    const results = await Promise.allSettled(attempts);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as CatalogError).code).toMatch(/number_already_imported|concurrent_modification/);
    }
    const winner = (won[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    for (let i = 0; i < 8; i++) {
      const id = `num_race_${i}`;
      expect(await redis.exists(keys.numberId(id)), id).toBe(id === winner ? 1 : 0);
    }
    expect(await redis.zrangebylex(keys.index('number'), '[num_race_', '[num_race_~')).toEqual([winner]);
    expect(await scanAll(redis, `${prefix}lock:*`)).toEqual([]);
  });
});
