import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { billingShardOf, checkKeyLayout, decodeInvalidation, encodeInvalidation, redisKeys, type Invalidation } from '../../../src/stores/keys.js';
import { hashTagOf, keySlot, SLOTS } from '../../../src/stores/slots.js';

describe('redisKeys', () => {
  it.each(['sipedge:', 'test:1a2b3c4d:'])('puts every key and channel under %j', (prefix) => {
    const k = redisKeys(prefix);
    const all = [
      k.trunk('t1'),
      k.agent('a1'),
      k.number('+15550001001'),
      k.numberId('n1'),
      k.index('trunk'),
      k.index('agent'),
      k.index('number'),
      k.refs('agent', 'a1'),
      k.refs('trunk', 't1'),
      k.lock('t1'),
      k.activeCalls('trunk', 't1'),
      k.cpsBucket('trunk', 't1'),
      k.activeCalls('workspace', 'w1'),
      k.cpsBucket('workspace', 'w1'),
      k.workspaceSettings('w1'),
      k.invalidations,
      k.dnc({ kind: 'platform' }),
      k.dncEntries({ kind: 'platform' }),
      k.dnc({ kind: 'workspace', workspaceId: 'ws_1' }),
      k.dncEntries({ kind: 'workspace', workspaceId: 'ws_1' }),
      k.apiCall('call_1'),
      k.apiCallIdempotency('ws_1', 'abc'),
      k.apiCallHangups,
      k.testCallToken('abcdefghijklmnop'),
    ];
    expect(k.prefix).toBe(prefix);
    for (const key of all) {
      expect(key.startsWith(prefix)).toBe(true);
      expect(key.length).toBeGreaterThan(prefix.length);
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it('keeps kinds apart for the same id', () => {
    const k = redisKeys('p:');
    const same = 'x1';
    const keys = [k.trunk(same), k.agent(same), k.number(same), k.numberId(same), k.refs('agent', same), k.refs('trunk', same), k.workspaceSettings(same), k.testCallToken(same)];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keeps do-not-call lists and API call keys apart whatever the workspace id or call id', () => {
    const k = redisKeys('p:');
    const ws = (workspaceId: string) => ({ kind: 'workspace', workspaceId }) as const;
    const keys = [
      k.dnc({ kind: 'platform' }),
      k.dncEntries({ kind: 'platform' }),
      k.dnc(ws('platform')),
      k.dncEntries(ws('platform')),
      k.dnc(ws('x')),
      k.dncEntries(ws('x')),
      k.dnc(ws('x:entries')),
      k.dncEntries(ws('x:entries')),
      k.apiCall('idem:ws_1:abc'),
      k.apiCallIdempotency('ws_1', 'abc'),
      k.apiCall('hangup'),
      k.apiCallHangups,
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('two prefixes share no key', () => {
    const a = redisKeys('a:');
    const b = redisKeys('b:');
    expect(a.number('+15550001001')).not.toBe(b.number('+15550001001'));
    expect(a.invalidations).not.toBe(b.invalidations);
  });

  it('gives each entity its own hash tag: its keys share a slot, other entities spread', () => {
    const k = redisKeys('sipedge:');
    expect(new Set([k.trunk('trk_1'), k.refs('trunk', 'trk_1'), k.activeCalls('trunk', 'trk_1'), k.cpsBucket('trunk', 'trk_1')].map(keySlot)).size).toBe(1);
    expect(new Set([k.workspaceSettings('ws_1'), k.activeCalls('workspace', 'ws_1'), k.cpsBucket('workspace', 'ws_1')].map(keySlot)).size).toBe(1);
    const numbers = Array.from({ length: 3000 }, (_, i) => keySlot(k.number(`+1555${String(i).padStart(7, '0')}`)));
    // 3000 numbers over 3 equal slot ranges (a 3-master cluster): each within ±10 % of a third.
    const thirds = [0, 0, 0];
    for (const slot of numbers) thirds[Math.min(2, Math.floor((slot * 3) / SLOTS))]!++;
    for (const count of thirds) expect(Math.abs(count - 1000)).toBeLessThan(100);
  });

  it('passes its own start-up check for 1 and 16 billing shards', () => {
    expect(() => checkKeyLayout(redisKeys('sipedge:'), { stream: 'billing:events', shards: 1 })).not.toThrow();
    expect(() => checkKeyLayout(redisKeys('sipedge:'), { stream: 'billing:events', shards: 16 })).not.toThrow();
  });

  it.each(['{sipedge}:', '{}sipedge{x}:', 'a{b}c:'])('the start-up check refuses the prefix %j whose tag collapses the layout, naming a key', (prefix) => {
    expect(() => checkKeyLayout(redisKeys(prefix), { stream: 'billing:events', shards: 1 })).toThrow(/key layout: .*(cross slots|every number key).*"/);
  });

  it.each(['{sipedge}:', '{}sipedge{x}:', 'sip}edge:'])('config refuses the prefix %j', (prefix) => {
    const result = configSchema.safeParse({ admin: { token: 'x'.repeat(16) }, redis: { key_prefix: prefix } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['redis', 'key_prefix']);
  });
});

describe('hash slots as Redis computes them', () => {
  it.each([
    ['somekey', 'somekey'],
    ['foo{hash_tag}', 'hash_tag'],
    ['{user1000}.following', 'user1000'],
    ['foo{}{bar}', 'foo{}{bar}'],
    ['foo{{bar}}zap', '{bar'],
    ['foo{bar}{zap}', 'bar'],
    ['{}sipedge{x}:num:{+1555}', '{}sipedge{x}:num:{+1555}'],
    ['no-close{brace', 'no-close{brace'],
  ])('%j hashes %j', (key, hashed) => {
    expect(hashTagOf(key)).toBe(hashed);
  });

  it.each([
    // values from the Redis documentation (CLUSTER KEYSLOT) and redis-cli
    ['somekey', 11058],
    ['foo{hash_tag}', 2515],
    ['bar{hash_tag}', 2515],
    ['123456789', 12739],
  ])('slot of %j is %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });
});

describe('billing shards', () => {
  it('one shard keeps the single stream name, and its keys share its slot', () => {
    const [shard] = redisKeys('sipedge:').billingShards('billing:events', 1);
    expect(shard!.stream).toBe('sipedge:billing:events');
    expect(new Set([shard!.stream, shard!.owners, shard!.seen('a{b}'), shard!.open('edge~1')].map(keySlot)).size).toBe(1);
  });

  it('n shards cover n equal parts of the slot space, each with its keys in its slot', () => {
    const shards = redisKeys('sipedge:').billingShards('billing:events', 16);
    shards.forEach((s, i) => {
      const slot = keySlot(s.stream);
      expect(slot).toBeGreaterThanOrEqual((i * SLOTS) / 16);
      expect(slot).toBeLessThan(((i + 1) * SLOTS) / 16);
      expect(keySlot(s.seen('c1'))).toBe(slot);
      expect(keySlot(s.open('o'))).toBe(slot);
      expect(keySlot(s.owners)).toBe(slot);
    });
    expect(new Set(shards.map((s) => s.stream)).size).toBe(16);
  });

  it('a call always maps to the same shard, and calls spread over all shards', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const shard = billingShardOf(`call-${i}@carrier`, 8);
      expect(billingShardOf(`call-${i}@carrier`, 8)).toBe(shard);
      seen.add(shard);
    }
    expect(seen.size).toBe(8);
    expect(billingShardOf('anything', 1)).toBe(0);
  });
});

describe('invalidation messages', () => {
  it.each<Invalidation>([
    { kind: 'trunk', key: 'trk_1' },
    { kind: 'agent', key: 'agent-1' },
    { kind: 'number', key: '+15550001001' },
    { kind: 'number', key: 'with|bar' },
  ])('round trip %o', (inv) => {
    expect(decodeInvalidation(encodeInvalidation(inv))).toEqual(inv);
  });

  it.each(['', 'trunk', 'number+15550001001', 'route|x', 'TRUNK|x', '|x', ' trunk|x'])('%j is refused', (message) => {
    expect(decodeInvalidation(message)).toBeNull();
  });
});
