import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { ApiError, type AdminPlugin } from '../../src/admin/server.js';
import { TOKEN, startAdmin, type AdminHarness } from './adminHarness.js';

/** A plugin like the ones other parts register (route dry-run, active calls). */
const routeTestPlugin: AdminPlugin = (app) => {
  const body = z.strictObject({ source_ip: z.string() });
  app.post('/v1/route-test', {
    config: {
      openapi: {
        summary: 'Dry-run a call through the policy pipeline',
        body: { content: { 'application/json': body } },
        responses: { 200: { description: 'The decision', content: { 'application/json': z.object({ decision: z.string() }) } } },
        errors: [400],
      },
    },
    handler: async (req) => {
      const parsed = body.parse(req.body);
      if (parsed.source_ip === '0.0.0.0') throw new ApiError(422, 'unroutable', 'nothing routes from 0.0.0.0');
      return { decision: `continue from ${parsed.source_ip}` };
    },
  });
  app.get('/v1/calls', async () => ({ data: [] }));
};

describe('admin API: auth, operations endpoints, plugins, OpenAPI', () => {
  let h: AdminHarness;

  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl'), plugins: [routeTestPlugin] });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('bearer token', () => {
    it.each([
      ['no Authorization header', { token: null }, /required/],
      ['a wrong token of the same length', { token: TOKEN.replace(/.$/, 'X') }, /not valid/],
      ['a wrong token of another length', { token: 'short' }, /not valid/],
      ['the token with another scheme', { authorization: `Basic ${TOKEN}` }, /required/],
      ['an empty bearer', { authorization: 'Bearer ' }, /required/],
    ] as const)('refuses %s with 401 unauthorized', async (_name, opts, message) => {
      for (const path of ['/v1/trunks', '/v1/agents/x', '/v1/phone-numbers', '/v1/route-test', '/v1/no-such-route']) {
        const res = await h.request('GET', path, opts);
        expect(res.status, path).toBe(401);
        expect(res.body.error).toMatchObject({ code: 'unauthorized', details: null });
        expect(res.body.error.message).toMatch(message);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    });

    it('refuses writes without a token before touching the body', async () => {
      const res = await h.request('POST', '/v1/agents', { token: null, body: { id: 'a1', workspace_id: 'w', name: 'n', sip_uri: 'sip:a@h' } });
      expect(res.status).toBe(401);
      expect(await h.catalog.getAgent('a1')).toBeNull();
    });

    it('accepts the right token, whatever the case of the scheme', async () => {
      expect((await h.request('GET', '/v1/trunks')).status).toBe(200);
      expect((await h.request('GET', '/v1/trunks', { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    });

    it('serves /healthz, /readyz, /metrics and /openapi.json without a token', async () => {
      for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
        expect((await h.request('GET', path, { token: null })).status, path).toBe(200);
      }
    });
  });

  describe('errors', () => {
    it('answers unknown routes with 404 not_found in the error format', async () => {
      const res = await h.request('GET', '/v1/nothing-here');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: 'no route GET /v1/nothing-here', details: null } });
    });

    it('answers malformed JSON with 400 invalid_request naming the body', async () => {
      const res = await h.request('POST', '/v1/agents', { body: '{"id": "a1", ', contentType: 'application/json' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(/not valid JSON/);
      expect(res.body.error.details.errors).toEqual([{ field: '(body)', code: 'malformed_body', message: res.body.error.message }]);
    });

    it('answers an empty JSON body where one is needed with 400 naming the body', async () => {
      const res = await h.request('POST', '/v1/agents', { body: '', contentType: 'application/json' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details.errors[0].field).toBe('(body)');
    });

    it('takes an empty JSON body as no body where none is needed', async () => {
      await h.request('POST', '/v1/agents', { body: { id: 'agt_gone', workspace_id: 'w', name: 'n', sip_uri: 'sip:a@h' } });
      const res = await h.request('DELETE', '/v1/agents/agt_gone', { body: '', contentType: 'application/json' });
      expect(res.status).toBe(204);
    });

    it('refuses bodies that are not JSON with 415', async () => {
      const res = await h.request('POST', '/v1/agents', { body: 'id=a1', contentType: 'text/plain' });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
    });

    it('refuses __proto__ keys', async () => {
      const res = await h.request('POST', '/v1/agents', { body: '{"__proto__": {"x": 1}}', contentType: 'application/json' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    });
  });

  describe('plugins', () => {
    it('run under the same auth', async () => {
      expect((await h.request('POST', '/v1/route-test', { token: null, body: { source_ip: '192.0.2.1' } })).status).toBe(401);
      expect((await h.request('GET', '/v1/calls', { token: 'wrong' })).status).toBe(401);
    });

    it('refuse to start with a route documentation key RouteDoc does not know', async () => {
      const misdocumented: AdminPlugin = (app) => {
        app.get('/v1/misdocumented', { config: { openapi: { summary: 'x', requestBody: {}, responses: {} } } }, async () => ({}));
      };
      await expect(startAdmin({ redisUrl: inject('redisUrl'), plugins: [misdocumented] })).rejects.toThrow(/GET \/v1\/misdocumented: config.openapi has keys RouteDoc does not know: requestBody/);
    });

    it('answer and get the shared error format for ApiError and ZodError', async () => {
      const ok = await h.request('POST', '/v1/route-test', { body: { source_ip: '192.0.2.1' } });
      expect(ok).toMatchObject({ status: 200, body: { decision: 'continue from 192.0.2.1' } });
      const refused = await h.request('POST', '/v1/route-test', { body: { source_ip: '0.0.0.0' } });
      expect(refused).toMatchObject({ status: 422, body: { error: { code: 'unroutable', message: 'nothing routes from 0.0.0.0' } } });
      const invalid = await h.request('POST', '/v1/route-test', { body: { source_ip: 1, extra: true } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('invalid_request');
      expect(invalid.body.error.details.errors).toEqual([
        { field: 'source_ip', code: 'invalid_field', message: expect.stringMatching(/expected string/) },
        { field: 'extra', code: 'unknown_field', message: 'unknown field' },
      ]);
    });
  });

  describe('/readyz', () => {
    it('is 200 with the checks when ready', async () => {
      h.readiness = { ready: true, checks: { redis: { ok: true }, drachtio: { ok: true } } };
      const res = await h.request('GET', '/readyz', { token: null });
      expect(res).toMatchObject({ status: 200, body: { ready: true, checks: { redis: { ok: true }, drachtio: { ok: true } } } });
    });

    it('is 503 with the failing check when not ready', async () => {
      h.readiness = { ready: false, checks: { redis: { ok: true }, drachtio: { ok: false, detail: 'disconnected' } } };
      const res = await h.request('GET', '/readyz', { token: null });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ ready: false, checks: { redis: { ok: true }, drachtio: { ok: false, detail: 'disconnected' } } });
    });

    it('is 503 when the check itself throws', async () => {
      h.readiness = new Error('health probe exploded');
      const res = await h.request('GET', '/readyz', { token: null });
      expect(res.status).toBe(503);
      expect(res.body.ready).toBe(false);
      expect(Object.values(res.body.checks)).toContainEqual({ ok: false, detail: 'health probe exploded' });
    });
  });

  it('/healthz says ok', async () => {
    expect(await h.request('GET', '/healthz', { token: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('/metrics serves Prometheus text with the admin request counter by route template', async () => {
    await h.request('GET', '/v1/agents/some-agent-id');
    const res = await h.request('GET', '/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/sip_edge_admin_requests_total\{method="GET",route="\/v1\/agents\/:id",status="404"\} [1-9]/);
    expect(res.body).not.toContain('some-agent-id');
    expect(res.body).toContain('sip_edge_process_');
  });

  describe('/openapi.json', () => {
    let doc: any;
    beforeAll(async () => {
      doc = (await h.request('GET', '/openapi.json', { token: null })).body;
    });

    it('is an OpenAPI 3.1 document with bearer security', () => {
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
      expect(doc.security).toEqual([{ bearerAuth: [] }]);
      expect(doc.paths['/healthz'].get.security).toEqual([]);
    });

    it('has every core route, path parameters in OpenAPI form', () => {
      for (const resource of ['trunks', 'agents', 'phone-numbers']) {
        expect(Object.keys(doc.paths[`/v1/${resource}`]).sort()).toEqual(['get', 'post']);
        expect(Object.keys(doc.paths[`/v1/${resource}/{id}`]).sort()).toEqual(['delete', 'get', 'patch']);
        expect(doc.paths[`/v1/${resource}/{id}`].get.parameters).toContainEqual({ name: 'id', in: 'path', required: true, schema: { type: 'string' } });
      }
      expect(doc.paths['/v1/phone-numbers/import'].post.requestBody.content).toHaveProperty(['text/csv']);
      for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect(doc.paths[path]).toHaveProperty('get');
    });

    it('derives components from the zod schemas, passwords write-only', () => {
      const trunk = doc.components.schemas.Trunk;
      expect(trunk.properties.inbound.properties.transports.items.enum).toEqual(['udp', 'tcp', 'tls', 'wss']);
      expect(trunk.properties.inbound.properties).not.toHaveProperty('auth_password');
      expect(trunk.properties.inbound.properties.auth_password_set).toEqual(expect.objectContaining({ type: 'boolean' }));
      expect(doc.components.schemas.TrunkCreate.properties.inbound.properties.auth_password).toMatchObject({ type: 'string', minLength: 8 });
      expect(doc.components.schemas.TrunkCreate.required).not.toContain('id');
      expect(doc.components.schemas.PhoneNumber.properties.telephony.enum).toEqual(['managed', 'imported', 'byoc', 'personal']);
      expect(doc.components.schemas.PhoneNumber.properties.status.enum).toEqual(['provisioning', 'active', 'suspended', 'released']);
      expect(doc.components.schemas.Agent.required).toEqual(expect.arrayContaining(['id', 'workspace_id', 'sip_uri', 'created_at']));
      const post = doc.paths['/v1/trunks'].post;
      expect(post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/TrunkCreate' });
      expect(post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Trunk' });
      expect(post.responses['409'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      expect(doc.paths['/v1/trunks'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['limit', 'cursor', 'workspace_id']);
    });

    it('lists plugin routes, with their zod schemas when documented', () => {
      const routeTest = doc.paths['/v1/route-test'].post;
      expect(routeTest.summary).toBe('Dry-run a call through the policy pipeline');
      expect(routeTest.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', properties: { source_ip: { type: 'string' } }, additionalProperties: false });
      expect(doc.paths['/v1/calls'].get.responses).toHaveProperty('401');
    });

    it('has every $ref resolvable', () => {
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      expect(refs.length).toBeGreaterThan(10);
      for (const ref of refs) expect(doc.components.schemas).toHaveProperty([ref.slice('"#/components/schemas/'.length, -1)]);
    });
  });
});
