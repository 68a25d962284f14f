import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { redisKeys } from '../../src/stores/keys.js';

describe('billing Redis keys', () => {
  it.each(['sipedge:', '{sipedge}:'])('live under the prefix %j, apart from each other and the catalog', (prefix) => {
    const k = redisKeys(prefix);
    const stream = configSchema.parse({ admin: { token: 'x'.repeat(16) } }).billing.stream;
    const billing = [k.billingStream(stream), k.billingSeen('c1'), k.billingOpen('edge~b1'), k.billingHeartbeats, k.billingAlive('edge~b1')];
    const others = [k.trunk('c1'), k.agent('c1'), k.number('c1'), k.numberId('c1'), k.invalidations, k.index('number')];
    for (const key of billing) expect(key.startsWith(prefix)).toBe(true);
    expect(new Set([...billing, ...others]).size).toBe(billing.length + others.length);
    // A call id that looks like a key suffix cannot reach another call's key.
    expect(k.billingSeen('a:b')).not.toBe(k.billingOpen('b'));
    expect(k.billingStream(stream)).toBe(`${prefix}billing:events`);
  });
});
