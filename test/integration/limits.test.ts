import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { TrunkRecord } from '../../src/domain/model.js';
import { RedisCallLimiter, type Admission, type Lease, type WorkspaceLimitDefaults } from '../../src/limits/limiter.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { phoneNumber, testPrefix, trunk } from '../helpers/fixtures.js';
import { redisSection } from '../helpers/testRedis.js';

function record(limits: { max_concurrent_calls?: number | null; max_cps?: number | null }, id = `trk-${Math.random().toString(36).slice(2, 8)}`): TrunkRecord {
  return { ...trunk({ id, limits }), created_at: '', updated_at: '' };
}

function leaseOf(a: Admission): Lease {
  if (a.kind !== 'admitted') throw new Error(`expected admission, got ${a.reason}`);
  return a.lease;
}

describe('RedisCallLimiter against a real Redis', () => {
  let redis: RedisClient;
  const keys = redisKeys(testPrefix());
  let clock = 1_000_000;
  const now = (): number => clock;
  const limiter = (leaseMs = 60_000, instance = 'i1', defaults: WorkspaceLimitDefaults = { max_concurrent_calls: null, max_cps: null }) =>
    new RedisCallLimiter(redis, keys, instance, defaults, leaseMs, createMetrics(), createLogger('silent'), now);

  beforeAll(async () => {
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: redisSection() });
    redis = createRedis(config.redis, 'test-limits');
    await whenReady(redis, 5000);
  });
  afterAll(() => redis.disconnect());

  it('admits N concurrent calls on a trunk limited to N, refuses the next, and counts back to 0', async () => {
    const t = record({ max_concurrent_calls: 3 });
    const l = limiter();
    const leases = [];
    for (const call of ['a', 'b', 'c']) leases.push(leaseOf(await l.admit(t, 'ws-1', call)));
    expect(await l.admit(t, 'ws-1', 'd')).toEqual({ kind: 'refused', reason: 'limit_trunk_calls' });
    expect(await redis.zcard(keys.activeCalls('trunk', t.id))).toBe(3);

    for (const lease of leases) {
      lease.release();
      lease.release(); // run-once
    }
    await expect.poll(() => redis.zcard(keys.activeCalls('trunk', t.id))).toBe(0);
    expect(await redis.zcard(keys.activeCalls('workspace', 'ws-1'))).toBe(0);
    expect(l.heldCount).toBe(0);
    leaseOf(await l.admit(t, 'ws-1', 'e')).release();
  });

  it('holds calls per second with a token bucket that refills over time', async () => {
    const t = record({ max_cps: 10 });
    const l = limiter();
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await l.admit(t, 'ws-2', `cps-${i}`)).kind);
    // a burst of 200 ms worth (2 calls at 10/s), then refused
    expect(results).toEqual(['admitted', 'admitted', 'refused', 'refused']);
    clock += 100; // 100 ms refills one token at 10/s
    expect((await l.admit(t, 'ws-2', 'cps-4')).kind).toBe('admitted');
    expect(await l.admit(t, 'ws-2', 'cps-5')).toEqual({ kind: 'refused', reason: 'limit_trunk_cps' });
  });

  it('takes nothing when a later limit refuses', async () => {
    const t = record({ max_concurrent_calls: 5 });
    const l = limiter(60_000, 'i1', { max_concurrent_calls: 0, max_cps: null });
    expect(await l.admit(t, 'ws-3', 'x')).toEqual({ kind: 'refused', reason: 'limit_workspace_calls' });
    expect(await redis.zcard(keys.activeCalls('trunk', t.id))).toBe(0);
  });

  it('applies a workspace override stored in Redis over the default', async () => {
    const t = record({});
    const l = limiter(60_000, 'i1', { max_concurrent_calls: 100, max_cps: null });
    await redis.hset(keys.workspaceSettings('ws-4'), 'max_concurrent_calls', '1');
    leaseOf(await l.admit(t, 'ws-4', 'one'));
    expect(await l.admit(t, 'ws-4', 'two')).toEqual({ kind: 'refused', reason: 'limit_workspace_calls' });
    await redis.hset(keys.workspaceSettings('ws-4'), 'max_cps', '1');
    await redis.hdel(keys.workspaceSettings('ws-4'), 'max_concurrent_calls');
    clock += 2000;
    leaseOf(await l.admit(t, 'ws-4', 'three'));
    expect(await l.admit(t, 'ws-4', 'four')).toEqual({ kind: 'refused', reason: 'limit_workspace_cps' });
  });

  it("heals after an instance dies: its unrefreshed leases stop counting when they expire", async () => {
    const t = record({ max_concurrent_calls: 1 });
    const dead = limiter(10_000, 'dead-instance');
    leaseOf(await dead.admit(t, 'ws-5', 'orphan')); // never released, never refreshed
    const alive = limiter(10_000, 'alive-instance');
    expect(await alive.admit(t, 'ws-5', 'new-1')).toEqual({ kind: 'refused', reason: 'limit_trunk_calls' });
    clock += 10_001;
    leaseOf(await alive.admit(t, 'ws-5', 'new-2'));
    expect(await redis.zrange(keys.activeCalls('trunk', t.id), 0, -1)).toEqual(['alive-instance:new-2']);
  });

  describe('alongLookup: the route read and the admission in one script', () => {
    const numberKey = async (e164: string, o: Parameters<typeof phoneNumber>[0]): Promise<string> => {
      const key = keys.number(e164);
      await redis.set(key, JSON.stringify({ ...phoneNumber({ phone_number: e164, inbound_routing: { agent_id: 'agent-1' }, ...o }), created_at: '', updated_at: '' }));
      return key;
    };

    it("returns the record and admits against the trunk and the record's workspace", async () => {
      const t = record({ max_concurrent_calls: 5 });
      const l = limiter();
      const key = await numberKey('+15550007001', { workspace_id: 'ws-along-%1.x' }); // Lua pattern characters in the id
      const along = l.alongLookup(t, 'along-a');
      const raw = await along.read(key);
      expect(JSON.parse(raw!)).toMatchObject({ phone_number: '+15550007001', workspace_id: 'ws-along-%1.x' });
      const lease = leaseOf(along.admission()!);
      expect(await redis.zrange(keys.activeCalls('trunk', t.id), 0, -1)).toEqual(['i1:along-a']);
      expect(await redis.zrange(keys.activeCalls('workspace', 'ws-along-%1.x'), 0, -1)).toEqual(['i1:along-a']);
      expect(l.heldCount).toBe(1);
      lease.release();
      await expect.poll(() => redis.zcard(keys.activeCalls('workspace', 'ws-along-%1.x'))).toBe(0);
      expect(await redis.zcard(keys.activeCalls('trunk', t.id))).toBe(0);
    });

    it('refuses with the limit that is full, taking nothing', async () => {
      const t = record({ max_concurrent_calls: 5 });
      const l = limiter();
      await redis.hset(keys.workspaceSettings('ws-along-full'), 'max_concurrent_calls', '0');
      const key = await numberKey('+15550007002', { workspace_id: 'ws-along-full' });
      const along = l.alongLookup(t, 'along-b');
      expect(await along.read(key)).not.toBeNull();
      expect(along.admission()).toEqual({ kind: 'refused', reason: 'limit_workspace_calls' });
      expect(await redis.zcard(keys.activeCalls('trunk', t.id))).toBe(0);
    });

    it.each([
      ['a suspended number', { status: 'suspended' as const }],
      ['a number without inbound routing', { inbound_routing: null }],
    ])('%s: the record, and no admission tried', async (_name, o) => {
      const t = record({ max_concurrent_calls: 5 });
      const along = limiter().alongLookup(t, 'along-c');
      expect(await along.read(await numberKey('+15550007003', o))).not.toBeNull();
      expect(along.admission()).toBeNull();
      expect(await redis.zcard(keys.activeCalls('trunk', t.id))).toBe(0);
    });

    it('an unknown number: null, and no admission tried', async () => {
      const along = limiter().alongLookup(record({}), 'along-d');
      expect(await along.read(keys.number('+15550007099'))).toBeNull();
      expect(along.admission()).toBeNull();
    });

    it('names the workspace keys as keys.ts does, hash tag included', async () => {
      const tagged = redisKeys(`{t${Math.random().toString(36).slice(2, 8)}}:`);
      const l = new RedisCallLimiter(redis, tagged, 'i1', { max_concurrent_calls: null, max_cps: 100 }, 60_000, createMetrics(), createLogger('silent'), now);
      const key = tagged.number('+15550007004');
      await redis.set(key, JSON.stringify({ ...phoneNumber({ phone_number: '+15550007004', workspace_id: 'ws-tag', inbound_routing: { agent_id: 'a' } }), created_at: '', updated_at: '' }));
      const along = l.alongLookup(record({}), 'along-e');
      await along.read(key);
      expect(along.admission()?.kind).toBe('admitted');
      expect(await redis.zcard(tagged.activeCalls('workspace', 'ws-tag'))).toBe(1);
      expect(await redis.hget(tagged.cpsBucket('workspace', 'ws-tag'), 't')).not.toBeNull();
    });

    it('Redis unreachable: the read fails (the route store serves what it has) and nothing is decided', async () => {
      const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { url: 'redis://127.0.0.1:1/0', command_timeout_ms: 50 } });
      const offline = createRedis(config.redis, 'test-offline-along');
      offline.on('error', () => undefined);
      const l = new RedisCallLimiter(offline, keys, 'i1', { max_concurrent_calls: null, max_cps: null }, 60_000, createMetrics(), createLogger('silent'));
      const along = l.alongLookup(record({}), 'along-f');
      await expect(along.read(keys.number('+15550007005'))).rejects.toThrow();
      expect(along.admission()).toBeNull();
      offline.disconnect();
    });
  });

  it('fails open while Redis is unreachable', async () => {
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { url: 'redis://127.0.0.1:1/0', command_timeout_ms: 50 } });
    const offline = createRedis(config.redis, 'test-offline');
    offline.on('error', () => undefined);
    const l = new RedisCallLimiter(offline, keys, 'i1', { max_concurrent_calls: 0, max_cps: null }, 60_000, createMetrics(), createLogger('silent'));
    expect((await l.admit(record({ max_concurrent_calls: 0 }), 'ws-6', 'z')).kind).toBe('admitted');
    offline.disconnect();
  });
});
