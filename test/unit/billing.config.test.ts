import { describe, expect, it } from 'vitest';
import { billingConfigSchema } from '../../src/billing/config.js';
import { configSchema } from '../../src/config/schema.js';

describe('billing config', () => {
  it('defaults: first minute 60/1 for managed telephony, per second for the rest', () => {
    const billing = configSchema.parse({ admin: { token: 'x'.repeat(16) } }).billing;
    expect(billing.plans).toEqual({
      managed: { minimum_s: 60, increment_s: 1 },
      personal: { minimum_s: 60, increment_s: 1 },
      imported: { minimum_s: 1, increment_s: 1 },
      byoc: { minimum_s: 1, increment_s: 1 },
      browser_test: { minimum_s: 1, increment_s: 1 },
    });
    expect(billing).toMatchObject({ stream: 'billing:events', stream_maxlen: 1_000_000, heartbeat_interval_s: 5, liveness_ttl_s: 20, rejected_events: 'attributed', batch_size: 200, linger_ms: 20 });
  });

  it('takes "minimum/increment" per plan key', () => {
    const billing = billingConfigSchema.parse({ plans: { managed: '60/6', byoc: '6/6', imported: ' 0 / 1 ' } });
    expect(billing.plans.managed).toEqual({ minimum_s: 60, increment_s: 6 });
    expect(billing.plans.byoc).toEqual({ minimum_s: 6, increment_s: 6 });
    expect(billing.plans.imported).toEqual({ minimum_s: 0, increment_s: 1 });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a malformed plan', { plans: { managed: '60' } }, 'plans.managed'],
    ['a zero increment', { plans: { managed: '60/0' } }, 'plans.managed'],
    ['a first-minute minimum on an actual-duration key', { plans: { byoc: '60/1' } }, 'plans.byoc'],
    ['no minimum on a first-minute key', { plans: { personal: '0/1' } }, 'plans.personal'],
    ['a liveness TTL shorter than two heartbeats', { heartbeat_interval_s: 10, liveness_ttl_s: 15 }, 'liveness_ttl_s'],
    ['a negative maxlen', { stream_maxlen: -1 }, 'stream_maxlen'],
    ['a batch larger than one script call should carry', { batch_size: 5000 }, 'batch_size'],
    ['a negative linger', { linger_ms: -1 }, 'linger_ms'],
  ])('names the key of %s', (_name, raw, path) => {
    const result = billingConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
