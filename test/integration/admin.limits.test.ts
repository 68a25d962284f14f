import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { dumpPrefix, startAdmin, type AdminHarness } from './adminHarness.js';

const IMPORT = '/v1/phone-numbers/import';
const MERGE_PATCH = 'application/merge-patch+json';
const defaults = configSchema.parse({ admin: { token: 'x'.repeat(16) } }).admin;

/** `{"k":{"k":...1...}}`, `depth` objects deep. */
const nestedObjects = (depth: number, key = 'name'): string => `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;
const row = (e164: string) => ({ phone_number: e164, workspace_id: 'ws_l', telephony: 'imported', provider: 'twilio', friendly_name: 'Line' });

/**
 * Hostile and oversized bodies against the real admin server with its default limits: a refusal
 * is a precise 400/413 and leaves Redis byte-for-byte as it was.
 */
describe('admin API: limits on what is parsed', () => {
  let h: AdminHarness;

  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl') });
    const agent = await h.request('POST', '/v1/agents', { body: { id: 'agt_l1', workspace_id: 'ws_l', name: 'limits', sip_uri: 'sip:l1@10.0.0.1' } });
    expect(agent.status).toBe(201);
  });
  afterAll(async () => {
    await h.close();
  });

  async function unchangedBy(method: string, path: string, body: string, contentType: string) {
    const before = await dumpPrefix(h.redis, h.keys.prefix);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const res = await h.request(method, path, { body, contentType });
    expect(await dumpPrefix(h.redis, h.keys.prefix)).toEqual(before);
    return res;
  }

  it('refuses a merge patch nested 12,000 levels deep with 400 json_too_deep naming the field and the limit', async () => {
    const res = await unchangedBy('PATCH', '/v1/agents/agt_l1', nestedObjects(12_000), MERGE_PATCH);
    expect(res.status).toBe(400);
    const field = Array.from({ length: defaults.json_max_depth }, () => 'name').join('.');
    expect(res.body).toEqual({
      error: {
        code: 'json_too_deep',
        message: `${field}: nests objects/arrays deeper than ${defaults.json_max_depth} levels (admin.json_max_depth)`,
        details: { errors: [{ field, code: 'json_too_deep', message: `nests objects/arrays deeper than ${defaults.json_max_depth} levels (admin.json_max_depth)` }], max_depth: defaults.json_max_depth },
      },
    });
    expect((await h.request('GET', '/v1/agents/agt_l1')).body.name).toBe('limits');
  });

  it('parses a patch exactly at the depth limit (the schema then judges it) and refuses one level more', async () => {
    const atLimit = await unchangedBy('PATCH', '/v1/agents/agt_l1', nestedObjects(defaults.json_max_depth), MERGE_PATCH);
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.error.code).toBe('invalid_request');
    const over = await unchangedBy('PATCH', '/v1/agents/agt_l1', nestedObjects(defaults.json_max_depth + 1), MERGE_PATCH);
    expect(over.body.error.code).toBe('json_too_deep');
  });

  it('counts no brackets inside strings: a name full of them is stored', async () => {
    const name = `${'['.repeat(80)}{"x":${'{'.repeat(60)}`;
    const res = await h.request('PATCH', '/v1/agents/agt_l1', { body: JSON.stringify({ name }), contentType: MERGE_PATCH });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe(name);
    await h.request('PATCH', '/v1/agents/agt_l1', { body: JSON.stringify({ name: 'limits' }), contentType: MERGE_PATCH });
  });

  it('refuses a deeply nested 10 MB import before building it: 413 over the import limit, 400 under it', async () => {
    const huge = `${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}`;
    const oversize = await unchangedBy('POST', IMPORT, huge, 'application/json');
    expect(oversize.status).toBe(413);
    const deep = `{"numbers":[${nestedObjects(400_000, 'inbound_routing')}]}`;
    expect(deep.length).toBeLessThan(defaults.import_body_limit_bytes);
    const res = await unchangedBy('POST', IMPORT, deep, 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('json_too_deep');
    expect(res.body.error.details.errors[0].field).toMatch(/^numbers\.0\.inbound_routing\.inbound_routing\./);
  });

  it('refuses a body over admin.body_limit_bytes with 413 naming the limit', async () => {
    const name = 'n'.repeat(defaults.body_limit_bytes);
    const res = await unchangedBy('PATCH', '/v1/agents/agt_l1', JSON.stringify({ name }), MERGE_PATCH);
    expect(res.status).toBe(413);
    expect(res.body.error).toEqual({
      code: 'payload_too_large',
      message: `the request body is larger than ${defaults.body_limit_bytes} bytes (admin.body_limit_bytes)`,
      details: { max_bytes: defaults.body_limit_bytes, setting: 'admin.body_limit_bytes' },
    });
  });

  it('refuses an import over admin.import_body_limit_bytes with 413 naming that limit, JSON and CSV alike', async () => {
    const padding = 'x'.repeat(defaults.import_body_limit_bytes);
    const json = await unchangedBy('POST', IMPORT, JSON.stringify({ numbers: [{ ...row('+15550300001'), friendly_name: padding }] }), 'application/json');
    expect(json.status).toBe(413);
    expect(json.body.error.details).toEqual({ max_bytes: defaults.import_body_limit_bytes, setting: 'admin.import_body_limit_bytes' });
    const csv = await unchangedBy('POST', IMPORT, `phone_number,workspace_id,telephony,friendly_name\n+15550300001,ws_l,managed,${padding}\n`, 'text/csv');
    expect(csv.status).toBe(413);
    expect(csv.body.error.details.setting).toBe('admin.import_body_limit_bytes');
  });

  it('still takes a large import that is within the limits (larger than the general body limit)', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ ...row(`+1555031${String(i).padStart(4, '0')}`), friendly_name: `Line ${i} ${'-'.repeat(185)}` }));
    const body = JSON.stringify(rows);
    expect(body.length).toBeGreaterThan(defaults.body_limit_bytes);
    expect(body.length).toBeLessThan(defaults.import_body_limit_bytes);
    const res = await h.request('POST', IMPORT, { body, contentType: 'application/json' });
    expect(res.status).toBe(201);
    expect(res.body.imported).toBe(5000);
    expect(await h.catalog.getNumberByE164('+15550314999')).toMatchObject({ friendly_name: expect.stringMatching(/^Line 4999 /) });
  });

  it('takes a large CSV import within the limits', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `+1555032${String(i).padStart(4, '0')},ws_l,imported,twilio,"Line ${i}, ${'-'.repeat(185)}"`);
    const csv = ['phone_number,workspace_id,telephony,provider,friendly_name', ...lines].join('\r\n');
    expect(csv.length).toBeGreaterThan(defaults.body_limit_bytes);
    const res = await h.request('POST', IMPORT, { body: csv, contentType: 'text/csv' });
    expect(res.status).toBe(201);
    expect(res.body.imported).toBe(5000);
  });
});

describe('admin API: configured limits', () => {
  let h: AdminHarness;

  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl'), admin: { json_max_depth: 8, body_limit_bytes: 4096 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('applies admin.json_max_depth and admin.body_limit_bytes as configured', async () => {
    const deep = await h.request('POST', '/v1/agents', { body: `{"id":"agt_c","tags":${'['.repeat(8)}${']'.repeat(8)}}`, contentType: 'application/json' });
    expect(deep.status).toBe(400);
    expect(deep.body.error).toMatchObject({ code: 'json_too_deep', details: { max_depth: 8, errors: [{ field: 'tags.0.0.0.0.0.0.0' }] } });
    const big = await h.request('POST', '/v1/agents', { body: { id: 'agt_c', workspace_id: 'ws_c', name: 'n'.repeat(5000), sip_uri: 'sip:c@10.0.0.3' } });
    expect(big.status).toBe(413);
    expect(big.body.error.details).toEqual({ max_bytes: 4096, setting: 'admin.body_limit_bytes' });
    const fine = await h.request('POST', '/v1/agents', { body: { id: 'agt_c', workspace_id: 'ws_c', name: 'c', sip_uri: 'sip:c@10.0.0.3' } });
    expect(fine.status).toBe(201);
  });
});
