import { describe, expect, it } from 'vitest';
import { decodeInvalidation, encodeInvalidation, redisKeys, type Invalidation } from '../../../src/stores/keys.js';

describe('redisKeys', () => {
  it.each(['sipedge:', '{sipedge}:', 'test:1a2b3c4d:'])('puts every key and channel under %j', (prefix) => {
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
      k.invalidations,
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
    const keys = [k.trunk(same), k.agent(same), k.number(same), k.numberId(same), k.refs('agent', same), k.refs('trunk', same), k.testCallToken(same)];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('two prefixes share no key', () => {
    const a = redisKeys('a:');
    const b = redisKeys('b:');
    expect(a.number('+15550001001')).not.toBe(b.number('+15550001001'));
    expect(a.invalidations).not.toBe(b.invalidations);
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
