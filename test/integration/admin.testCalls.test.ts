import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerTestCallPage, TEST_CALL_PAGE_PATHS } from '../../src/admin/routes/testCallPage.js';
import { registerTestCalls } from '../../src/admin/routes/testCalls.js';
import { MAX_TOKEN_TTL_S, testCallsConfigSchema } from '../../src/browser/config.js';
import { verifyToken } from '../../src/browser/token.js';
import { RedisTestCallTokenStore } from '../../src/browser/tokenStore.js';
import { startAdmin, type AdminHarness } from './adminHarness.js';

const SECRET = 'integration-test-call-secret-0123456789';
const config = testCallsConfigSchema.parse({ secret: SECRET, entry_ports: [8443], ws_url: 'wss://edge.example.com:8443', token_ttl_s: 120 });

describe('POST /v1/test-calls', () => {
  let h: AdminHarness;
  let off: AdminHarness;
  const pageDir = mkdtempSync(join(tmpdir(), 'test-call-page-'));
  const now = { ms: Date.UTC(2026, 5, 1, 12, 0, 0) };

  beforeAll(async () => {
    writeFileSync(join(pageDir, 'test-call.html'), '<!doctype html><title>page</title>');
    h = await startAdmin({
      redisUrl: inject('redisUrl'),
      plugins: ({ catalog }) => [(app) => registerTestCalls(app, { catalog, config, now: () => now.ms }), (app) => registerTestCallPage(app, { dir: pageDir })],
      publicPaths: TEST_CALL_PAGE_PATHS,
    });
    off = await startAdmin({ redisUrl: inject('redisUrl'), plugins: ({ catalog }) => [(app) => registerTestCalls(app, { catalog, config: testCallsConfigSchema.parse({}) })] });
    for (const [id, ws] of [['agt_t1', 'ws_t'], ['agt_other', 'ws_other']]) {
      expect((await h.request('POST', '/v1/agents', { body: { id, workspace_id: ws, name: id, sip_uri: `sip:${id}@10.0.0.1` } })).status).toBe(201);
    }
    const number = await h.request('POST', '/v1/phone-numbers', {
      body: { id: 'num_t1', phone_number: '+15550107001', workspace_id: 'ws_t', telephony: 'managed', inbound_routing: { agent_id: 'agt_t1' } },
    });
    expect(number.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    await off?.close();
    rmSync(pageDir, { recursive: true, force: true });
  });

  it('issues a signed token bound to the workspace and the number, with the browser entry to use', async () => {
    const res = await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', number_id: 'num_t1' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      header: 'X-Test-Call-Token',
      ttl_s: 120,
      expires_at: new Date(now.ms + 120_000).toISOString(),
      ws_url: 'wss://edge.example.com:8443',
      sip_uri: 'sip:+15550107001@edge.example.com',
      workspace_id: 'ws_t',
      target: { kind: 'number', id: 'num_t1', phone_number: '+15550107001' },
    });
    const verdict = verifyToken(SECRET, res.body.token, now.ms, MAX_TOKEN_TTL_S);
    expect(verdict).toEqual({ ok: true, claims: { jti: res.body.token_id, workspaceId: 'ws_t', target: { kind: 'number', id: 'num_t1', e164: '+15550107001' }, iat: now.ms / 1000, exp: now.ms / 1000 + 120 } });
    // short-lived: expired at its expires_at
    expect(verifyToken(SECRET, res.body.token, now.ms + 120_000, MAX_TOKEN_TTL_S)).toMatchObject({ ok: false, problem: 'expired' });
  });

  it('issues one for an agent; every token is a new one', async () => {
    const a = await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', agent_id: 'agt_t1' } });
    const b = await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', agent_id: 'agt_t1' } });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.target).toEqual({ kind: 'agent', id: 'agt_t1' });
    expect(a.body.sip_uri).toBe('sip:agent-agt_t1@edge.example.com');
    expect(a.body.token).not.toBe(b.body.token);
    expect(a.body.token_id).not.toBe(b.body.token_id);
  });

  it('never issues one for another workspace\'s target (404, as if it did not exist)', async () => {
    const number = await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_other', number_id: 'num_t1' } });
    expect([number.status, number.body.error.code]).toEqual([404, 'number_not_found']);
    const agent = await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', agent_id: 'agt_other' } });
    expect([agent.status, agent.body.error.code]).toEqual([404, 'agent_not_found']);
    const missing = await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', agent_id: 'agt_nope' } });
    expect(missing.status).toBe(404);
  });

  it.each([
    [{ workspace_id: 'ws_t' }, 'number_id'],
    [{ workspace_id: 'ws_t', number_id: 'num_t1', agent_id: 'agt_t1' }, 'agent_id'],
    [{ number_id: 'num_t1' }, 'workspace_id'],
    [{ workspace_id: 'ws_t', number_id: 'num_t1', ttl_s: 3600 }, 'ttl_s'],
  ])('refuses %o with 400 naming %s', async (body, field) => {
    const res = await h.request('POST', '/v1/test-calls', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('needs the bearer token', async () => {
    expect((await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', number_id: 'num_t1' }, token: null })).status).toBe(401);
    expect((await h.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', number_id: 'num_t1' }, token: 'wrong-token-0123456789' })).status).toBe(401);
  });

  it('answers 409 test_calls_disabled where test calls are not configured', async () => {
    const res = await off.request('POST', '/v1/test-calls', { body: { workspace_id: 'ws_t', agent_id: 'agt_t1' } });
    expect([res.status, res.body.error.code]).toEqual([409, 'test_calls_disabled']);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await h.request('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/test-calls'].post.summary).toMatch(/test call/i);
    expect(doc.paths['/v1/test-calls'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('number_id');
  });

  it('serves the page without a token, with a content security policy; the script 503s until built', async () => {
    const page = await h.request('GET', '/test-call', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('<title>page</title>');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const script = await h.request('GET', '/test-call/app.js', { token: null });
    expect([script.status, script.body.error.code]).toEqual([503, 'page_not_built']);
    // nothing else became public
    expect((await h.request('GET', '/v1/agents', { token: null })).status).toBe(401);
  });
});

describe('RedisTestCallTokenStore (single use across instances)', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl') });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('says fresh once and used from then on, for every instance sharing Redis', async () => {
    const a = new RedisTestCallTokenStore(h.redis, h.keys);
    const b = new RedisTestCallTokenStore(h.redis, h.keys);
    const expires = Date.now() + 60_000;
    expect(await a.consume('jti-000000000000001', expires)).toBe('fresh');
    expect(await a.consume('jti-000000000000001', expires)).toBe('used');
    expect(await b.consume('jti-000000000000001', expires)).toBe('used');
    expect(await b.consume('jti-000000000000002', expires)).toBe('fresh');
  });

  it('races: of many concurrent presentations of one token exactly one is fresh', async () => {
    const stores = Array.from({ length: 20 }, () => new RedisTestCallTokenStore(h.redis, h.keys));
    const results = await Promise.all(stores.map((s) => s.consume('jti-race-00000000001', Date.now() + 60_000)));
    expect(results.filter((r) => r === 'fresh')).toHaveLength(1);
  });

  it('keeps the mark until the token has expired (plus a minute), not for ever', async () => {
    const store = new RedisTestCallTokenStore(h.redis, h.keys);
    await store.consume('jti-ttl-000000000001', Date.now() + 120_000);
    const ttl = await h.redis.pttl(h.keys.testCallToken('jti-ttl-000000000001'));
    expect(ttl).toBeGreaterThan(170_000);
    expect(ttl).toBeLessThanOrEqual(180_000);
  });
});
