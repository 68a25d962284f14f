import { redisSection } from '../helpers/testRedis.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerApiCalls } from '../../src/admin/routes/apiCalls.js';
import { registerActiveCalls } from '../../src/admin/routes/calls.js';
import { registerDoNotCall } from '../../src/admin/routes/dnc.js';
import { ActiveCalls } from '../../src/calls/activeCalls.js';
import type { ApiCallDialer, ApiCallLegs, DialProgress } from '../../src/calls/apiCallDial.js';
import { ApiCalls } from '../../src/calls/apiCalls.js';
import { CallLifecycle, type CallEnd, type CallInfo } from '../../src/calls/lifecycle.js';
import type { CallSession } from '../../src/calls/session.js';
import { configSchema } from '../../src/config/schema.js';
import { RedisCallLimiter } from '../../src/limits/limiter.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { RedisApiCallStore } from '../../src/stores/apiCallRecords.js';
import { Catalog } from '../../src/stores/catalog.js';
import { RedisDoNotCallList } from '../../src/stores/dnc.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { RedisRouteStore } from '../../src/stores/routeStore.js';
import { RedisWorkspaceSettings } from '../../src/stores/workspaceSettings.js';
import { agent, phoneNumber, testPrefix, trunk } from '../helpers/fixtures.js';
import { startAdmin, type AdminHarness } from './adminHarness.js';

/** A dialer that places nothing: it records each call it was asked to place and lets the test drive its progress. */
class FakeDialer {
  readonly placed: { session: CallSession; legs: ApiCallLegs; progress: DialProgress }[] = [];
  readonly dialer: ApiCallDialer = async (session, legs, progress) => {
    this.placed.push({ session, legs, progress });
    progress.dialing();
  };
}

/**
 * POST/GET/DELETE /v1/calls on the real admin server over real Redis (records, idempotency keys,
 * limits, do-not-call lists, the catalog and route store), with every rule of the outbound pipeline;
 * only the SIP side is replaced (the e2e test places real calls).
 */
describe('admin API: calls placed through the API', () => {
  let h: AdminHarness;
  let redis: RedisClient;
  let subscriber: RedisClient;
  let store: RedisRouteStore;
  const fake = new FakeDialer();
  const ended: [CallInfo, CallEnd][] = [];
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  const activeCalls = new ActiveCalls();
  let ids: { agent: string; agentElsewhere: string; caller: string; limitedCaller: string };
  let deps: ConstructorParameters<typeof ApiCalls>[0];
  const extraClients: RedisClient[] = [];

  const post = (body: unknown, idempotencyKey?: string) =>
    fetch(`${h.base}/v1/calls`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-token-for-tests-0123456789', 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, headers: res.headers, body: (await res.json()) as any }));
  const call = (o: Record<string, unknown> = {}) => ({ workspace_id: 'ws_api', from_number: ids.caller, to_number: '+44 20 7123 4567', agent_id: ids.agent, ...o });

  beforeAll(async () => {
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { ...redisSection(), key_prefix: prefix, command_timeout_ms: 2000 } });
    redis = createRedis(config.redis, 'test-api-calls');
    subscriber = createRedis(config.redis, 'test-api-calls-sub');
    await whenReady(redis, 5000);
    await whenReady(subscriber, 5000);
    const catalog = new Catalog(redis, keys);
    const carrier = await catalog.createTrunk(trunk({ id: 'trk_api', outbound: { termination_uris: [{ uri: 'sip:127.0.0.1:9', priority: 1 }], allowed_countries: ['GB', 'US'] } }));
    await catalog.createTrunk(trunk({ id: 'trk_one', limits: { max_concurrent_calls: 1 }, outbound: { termination_uris: [{ uri: 'sip:127.0.0.1:9', priority: 1 }], allowed_countries: ['*'] } }));
    const a = await catalog.createAgent(agent({ workspace_id: 'ws_api' }));
    const elsewhere = await catalog.createAgent(agent({ workspace_id: 'ws_other' }));
    const caller = await catalog.createNumber(phoneNumber({ phone_number: '+15550300001', workspace_id: 'ws_api', trunk_id: carrier.id }));
    const limited = await catalog.createNumber(phoneNumber({ phone_number: '+15550300002', workspace_id: 'ws_api', trunk_id: 'trk_one' }));
    ids = { agent: a.id, agentElsewhere: elsewhere.id, caller: caller.phone_number, limitedCaller: limited.phone_number };

    const metrics = createMetrics();
    const logger = createLogger('silent');
    store = new RedisRouteStore(redis, subscriber, keys, { ttlMs: 60_000, negativeTtlMs: 1000, maxKeys: 1000 }, metrics, logger);
    await store.start();
    const limiter = new RedisCallLimiter(redis, keys, 'it', { max_concurrent_calls: null, max_cps: null }, 60_000, metrics, logger);
    const lifecycle = new CallLifecycle(() => undefined);
    lifecycle.attach({ ended: (info, end) => ended.push([info, end]) });
    const dnc = new RedisDoNotCallList(redis, keys);
    deps = {
        outbound: { store, workspaces: new RedisWorkspaceSettings(redis, keys), limiter, defaultCountry: undefined, defaultOutboundTrunkId: undefined, dnc },
        store: new RedisApiCallStore(redis, keys, { recordS: 600, idempotencyS: 600 }),
        dialer: fake.dialer,
        lifecycle,
        activeCalls,
        metrics,
        logger,
        callbacks: null,
        settings: { instanceId: 'it', defaultRingTimeoutS: 60, agentRingTimeoutS: 15, defaultMaxDurationS: 3600, maxMessageBytes: 10_000 },
        draining: () => false,
      };
    const calls = new ApiCalls(deps, metrics.registry);
    lifecycle.attach(calls.listener);
    await calls.start(subscriber, keys.apiCallHangups);
    h = await startAdmin({
      redisUrl: inject('redisUrl'),
      plugins: [
        (app) => registerActiveCalls(app, activeCalls),
        (app) => registerApiCalls(app, { calls, maxRingTimeoutS: 120, retryAfterS: 7 }),
        (app) => registerDoNotCall(app, { list: dnc, defaultCountry: undefined, pageSizeMax: 100, importMaxRows: 100, importMaxBytes: 64 * 1024 }),
      ],
    });
  });

  afterAll(async () => {
    await activeCalls.terminateAll();
    await h?.close();
    redis?.disconnect();
    subscriber?.disconnect();
    for (const c of extraClients) c.disconnect();
  });

  it('answers 201 at once with the queued call, dials it, and GET shows its progress', async () => {
    const before = fake.placed.length;
    const res = await post(call({ metadata: { campaign: 'spring-24', 'Lead-Id': '42' }, ring_timeout_s: 25, max_duration_s: 120 }));
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(res.body).toMatchObject({ state: 'queued', workspace_id: 'ws_api', from_number: '+15550300001', to_number: '+442071234567', trunk_id: 'trk_api', sip_status: null, answered_at: null });
    expect(id).toMatch(/^call_/);
    expect(res.headers.get('location')).toBe(`/v1/calls/${id}`);
    await expect.poll(() => fake.placed.length).toBe(before + 1);
    const placed = fake.placed[before]!;
    expect(placed.legs).toMatchObject({
      destinationRingTimeoutMs: 25_000,
      maxDurationMs: 120_000,
      agentHeaders: { 'X-Workspace-Id': 'ws_api', 'X-Agent-Id': ids.agent, 'X-Call-Id': id, 'X-Direction': 'outbound-api', 'X-Meta-campaign': 'spring-24', 'X-Meta-Lead-Id': '42' },
    });
    const got = await h.request('GET', `/v1/calls/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, state: 'dialing' });
    expect(got.body.dialing_at).not.toBeNull();
    // the active-calls list is still served at GET /v1/calls, the new call in it
    const active = await h.request('GET', '/v1/calls');
    expect(active.body.data.map((c: { call_id: string }) => c.call_id)).toContain(id);
    // the record is in Redis, readable by any instance
    expect(JSON.parse((await redis.get(keys.apiCall(id)))!)).toMatchObject({ id, state: 'dialing' });
  });

  it('DELETE cancels a ringing call: failed, cancelled, 487, the slot and session closed', async () => {
    const { body } = await post(call());
    await expect.poll(() => fake.placed.some((p) => p.session.info.callId === body.id)).toBe(true);
    const del = await h.request('DELETE', `/v1/calls/${body.id}`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ state: 'failed', end_reason: 'cancelled', sip_status: 487 });
    expect(ended.find(([info]) => info.callId === body.id)?.[1]).toMatchObject({ cause: 'cancelled', answered: false });
    await expect.poll(async () => (await h.request('GET', `/v1/calls/${body.id}`)).body.state).toBe('failed');
    // once ended, DELETE again is the ended call
    expect((await h.request('DELETE', `/v1/calls/${body.id}`)).status).toBe(200);
  });

  it('an answered call hung up by DELETE ends completed with api_hangup', async () => {
    const { body } = await post(call());
    await expect.poll(() => fake.placed.some((p) => p.session.info.callId === body.id)).toBe(true);
    const placed = fake.placed.find((p) => p.session.info.callId === body.id)!;
    placed.session.answered();
    placed.progress.answered();
    const del = await h.request('DELETE', `/v1/calls/${body.id}`);
    expect(del.body).toMatchObject({ state: 'completed', end_reason: 'api_hangup', sip_status: 200 });
  });

  it('DELETE on another instance reaches the instance that carries the call (Redis pub/sub)', async () => {
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { ...redisSection(), key_prefix: prefix } });
    const otherSubscriber = createRedis(config.redis, 'test-api-calls-sub-2');
    extraClients.push(otherSubscriber);
    await whenReady(otherSubscriber, 5000);
    const other = new ApiCalls({ ...deps, settings: { ...deps.settings, instanceId: 'other' } }, createMetrics().registry);
    await other.start(otherSubscriber, keys.apiCallHangups);
    const { body } = await post(call());
    await expect.poll(async () => (await other.get(body.id))?.state).toBe('dialing');
    const asked = await other.hangup(body.id);
    expect(asked).toMatchObject({ kind: 'requested', record: { id: body.id, instance_id: 'it' } });
    await expect.poll(async () => (await other.get(body.id))?.state).toBe('failed');
    expect((await other.get(body.id))?.end_reason).toBe('cancelled');
  });

  it('a repeated Idempotency-Key returns the same call and dials once; another body under it is 422', async () => {
    const before = fake.placed.length;
    const first = await post(call(), 'order-1234');
    const again = await post(call(), 'order-1234');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await expect.poll(() => fake.placed.length).toBe(before + 1);
    // ten concurrent retries: still one call
    const burst = await Promise.all(Array.from({ length: 10 }, () => post(call({ to_number: '+12025550123' }), 'order-5678')));
    const created = burst.filter((r) => r.status === 201);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(burst.every((r) => r.status === 201 || (r.status === 409 && r.body.error.code === 'idempotency_key_in_progress'))).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.placed.length).toBe(before + 2);
    const reused = await post(call({ to_number: '+12025550199' }), 'order-1234');
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    // the same key in another workspace is another key
    const otherWs = await post(call({ workspace_id: 'ws_other', agent_id: ids.agentElsewhere }), 'order-1234');
    expect(otherWs.body.error?.code).toBe('caller_id_not_owned');
  });

  it('refuses with the stable reason codes of SIP refusals', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ to_number: '+33142685300' }, 403, 'country_not_allowed'],
      [{ to_number: '+449098790000' }, 403, 'premium_not_allowed'],
      [{ from_number: '+15559999999' }, 403, 'caller_id_not_owned'],
      [{ agent_id: 'agt_nobody' }, 422, 'agent_not_found'],
      [{ agent_id: ids.agentElsewhere }, 422, 'agent_not_found'],
      [{ to_number: 'reception' }, 400, 'destination_invalid'],
    ];
    for (const [change, status, code] of cases) {
      const res = await post(call(change));
      expect([res.status, res.body.error?.code]).toEqual([status, code]);
    }
  });

  it('limits give 429 with Retry-After; a refused Idempotency-Key may be retried once the slot is free', async () => {
    const first = await post(call({ from_number: ids.limitedCaller }));
    expect(first.status).toBe(201);
    const second = await post(call({ from_number: ids.limitedCaller }), 'retry-me');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('7');
    expect(second.body.error).toMatchObject({ code: 'limit_trunk_calls', details: { reason: 'limit_trunk_calls', sip_status: 503 } });
    expect((await h.request('DELETE', `/v1/calls/${first.body.id}`)).status).toBe(200);
    // the slot leaves Redis with the limiter's next release batch (~20 ms)
    let retried = await post(call({ from_number: ids.limitedCaller }), 'retry-me');
    for (let i = 0; i < 20 && retried.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 25));
      retried = await post(call({ from_number: ids.limitedCaller }), 'retry-me');
    }
    expect(retried.status).toBe(201);
    await h.request('DELETE', `/v1/calls/${retried.body.id}`);
  });

  it("refuses a number on the workspace's or the platform's do-not-call list, in any notation", async () => {
    expect((await h.request('POST', '/v1/workspaces/ws_api/dnc', { body: { phone_number: '+1 (202) 555-0177', reason: 'asked' } })).status).toBe(201);
    expect((await h.request('POST', '/v1/dnc', { body: { phone_number: '+12025550178' } })).status).toBe(201);
    for (const to of ['12025550177', '+1 202-555-0178']) {
      const res = await post(call({ to_number: to }));
      expect([res.status, res.body.error?.code]).toEqual([403, 'destination_opted_out']);
    }
    expect((await post(call({ to_number: '+12025550179' }))).status).toBe(201);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing field', { to_number: undefined }, 'to_number'],
    ['an unknown field', { priority: 1 }, 'priority'],
    ['a ring timeout over api_calls.max_ring_timeout_s', { ring_timeout_s: 121 }, 'ring_timeout_s'],
    ['a metadata key with a colon', { metadata: { 'a:b': '1' } }, 'metadata.a:b'],
    ['a metadata value with a line break', { metadata: { a: 'x\r\nX-Agent-Id: evil' } }, 'metadata.a'],
    ['too much metadata', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['a status_callback that is not http(s)', { status_callback: 'ftp://example.com/x' }, 'status_callback'],
  ])('400 names the field for %s', async (_what, change, field) => {
    const res = await post(call(change));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('a status_callback without a signing secret is 422 callbacks_not_configured; a bad Idempotency-Key is 400', async () => {
    const res = await post(call({ status_callback: 'https://example.com/hook' }));
    expect([res.status, res.body.error.code]).toEqual([422, 'callbacks_not_configured']);
    const key = await post(call(), 'x'.repeat(256));
    expect(key.status).toBe(400);
  });

  it('GET and DELETE of an unknown call are 404 call_not_found, also for ids that name other keys', async () => {
    for (const id of ['call_nope', 'idem:ws_api:x', '..%2Fx']) {
      expect((await h.request('GET', `/v1/calls/${id}`)).body.error.code).toBe('call_not_found');
      expect((await h.request('DELETE', `/v1/calls/${id}`)).status).toBe(404);
    }
  });

  it('the OpenAPI document describes the call and do-not-call endpoints from their schemas', async () => {
    const doc = (await h.request('GET', '/openapi.json')).body;
    const create = doc.paths['/v1/calls'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['workspace_id', 'from_number', 'to_number', 'agent_id']));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '403', '422', '429']));
    expect(doc.paths['/v1/calls/{id}'].get.responses['200'].content['application/json'].schema.properties.state.enum).toEqual(['queued', 'dialing', 'ringing', 'answered', 'completed', 'failed']);
    expect(doc.paths['/v1/calls/{id}'].delete).toBeDefined();
    expect(doc.paths['/v1/calls'].get).toBeDefined();
    for (const path of ['/v1/workspaces/{id}/dnc', '/v1/workspaces/{id}/dnc/{number}', '/v1/workspaces/{id}/dnc/import', '/v1/dnc', '/v1/dnc/{number}', '/v1/dnc/import']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
