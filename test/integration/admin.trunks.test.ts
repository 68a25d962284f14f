import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAdmin, type AdminHarness } from './adminHarness.js';

const INBOUND_PASSWORD = 'inbound-secret-pw';
const OUTBOUND_PASSWORD = 'outbound-secret-pw';

function byocTrunk(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `customer pbx ${id}`,
    kind: 'byoc',
    workspace_id: 'ws_t',
    inbound: { allowed_cidrs: ['192.0.2.0/24', '2001:db8::/32'], transports: ['udp', 'tls'], auth_username: 'in-user', auth_password: INBOUND_PASSWORD },
    outbound: {
      termination_uris: [{ uri: 'sip:pbx.example.com', priority: 5 }],
      auth_username: 'out-user',
      auth_password: OUTBOUND_PASSWORD,
      allowed_countries: ['US', 'CA'],
    },
    limits: { max_concurrent_calls: 10, max_cps: 2 },
    ...extra,
  };
}

describe('admin API: /v1/trunks', () => {
  let h: AdminHarness;

  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl'), admin: { page_size_max: 3 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates, reads and deletes a trunk; defaults filled in by the schema', async () => {
    const created = await h.request('POST', '/v1/trunks', { body: { id: 'trk_basic', name: 'carrier', kind: 'managed' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/trunks/trk_basic');
    expect(created.body).toMatchObject({
      id: 'trk_basic',
      workspace_id: null,
      inbound: { allowed_cidrs: [], transports: ['udp', 'tcp'], media_encryption: 'allowed', auth_password_set: false },
      outbound: { termination_uris: [], allowed_countries: [], block_premium: true, auth_password_set: false },
      limits: { max_concurrent_calls: null, max_cps: null },
    });
    expect(Date.parse(created.body.created_at)).not.toBeNaN();

    const read = await h.request('GET', '/v1/trunks/trk_basic');
    expect(read).toMatchObject({ status: 200, body: created.body });

    expect((await h.request('DELETE', '/v1/trunks/trk_basic')).status).toBe(204);
    expect(await h.catalog.getTrunk('trk_basic')).toBeNull();
    const gone = await h.request('GET', '/v1/trunks/trk_basic');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
    expect((await h.request('DELETE', '/v1/trunks/trk_basic')).status).toBe(404);
  });

  it('generates an id when the body has none', async () => {
    const created = await h.request('POST', '/v1/trunks', { body: { name: 'no id', kind: 'managed' } });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^trk_[0-9a-f]{20}$/);
    expect((await h.catalog.getTrunk(created.body.id))?.name).toBe('no id');
  });

  it('refuses a second trunk with the same id with 409 already_exists', async () => {
    expect((await h.request('POST', '/v1/trunks', { body: { id: 'trk_dup', name: 'a', kind: 'managed' } })).status).toBe(201);
    const again = await h.request('POST', '/v1/trunks', { body: { id: 'trk_dup', name: 'b', kind: 'managed' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_exists');
    expect((await h.catalog.getTrunk('trk_dup'))?.name).toBe('a');
  });

  describe('validation', () => {
    it('names the field path of a bad CIDR in message and details', async () => {
      const res = await h.request('POST', '/v1/trunks', { body: { name: 'x', kind: 'managed', inbound: { allowed_cidrs: ['10.0.0.0/8', 'not-an-ip'] } } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toBe('inbound.allowed_cidrs.1: must be an IPv4/IPv6 address or CIDR');
      expect(res.body.error.details.errors).toEqual([{ field: 'inbound.allowed_cidrs.1', code: 'invalid_field', message: 'must be an IPv4/IPv6 address or CIDR' }]);
    });

    it('refuses unknown keys, nested ones too, naming each', async () => {
      const res = await h.request('POST', '/v1/trunks', { body: { name: 'x', kind: 'managed', colour: 'red', outbound: { retries: 3 } } });
      expect(res.status).toBe(400);
      const fields = res.body.error.details.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).toEqual(['colour', 'outbound.retries']);
      expect(res.body.error.message).toContain('outbound.retries: unknown field');
    });

    it('lists every refused field at once', async () => {
      const res = await h.request('POST', '/v1/trunks', { body: { id: 'bad id!', name: '', kind: 'carrier', inbound: { transports: [] } } });
      expect(res.status).toBe(400);
      const fields = res.body.error.details.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).toEqual(['id', 'inbound.transports', 'kind', 'name']);
    });

    it('refuses a body that is not an object', async () => {
      const res = await h.request('POST', '/v1/trunks', { body: [1, 2] });
      expect(res.status).toBe(400);
      expect(res.body.error.details.errors[0].field).toBe('(body)');
    });
  });

  describe('write-only passwords', () => {
    it('never returns them, on create, read, list or patch', async () => {
      const created = await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_pw') });
      expect(created.status).toBe(201);
      expect(created.body.inbound).toMatchObject({ auth_username: 'in-user', auth_password_set: true });
      expect(created.body.outbound).toMatchObject({ auth_username: 'out-user', auth_password_set: true });
      const responses = [
        created,
        await h.request('GET', '/v1/trunks/trk_pw'),
        await h.request('GET', '/v1/trunks?limit=100'),
        await h.request('PATCH', '/v1/trunks/trk_pw', { body: { name: 'renamed' } }),
      ];
      for (const res of responses) {
        const text = JSON.stringify(res.body);
        expect(res.status).toBeLessThan(300);
        expect(text).not.toContain(INBOUND_PASSWORD);
        expect(text).not.toContain(OUTBOUND_PASSWORD);
        expect(text).not.toContain('"auth_password"');
      }
      // ...but stores them
      const stored = await h.catalog.getTrunk('trk_pw');
      expect(stored?.inbound.auth_password).toBe(INBOUND_PASSWORD);
      expect(stored?.outbound.auth_password).toBe(OUTBOUND_PASSWORD);
    });

    it('keeps the stored password when a patch leaves it out, replaces it when given', async () => {
      await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_pw2') });
      const patched = await h.request('PATCH', '/v1/trunks/trk_pw2', { body: { inbound: { auth_username: 'in-user-2' } } });
      expect(patched.status).toBe(200);
      expect(patched.body.inbound).toMatchObject({ auth_username: 'in-user-2', auth_password_set: true });
      expect((await h.catalog.getTrunk('trk_pw2'))?.inbound.auth_password).toBe(INBOUND_PASSWORD);

      const replaced = await h.request('PATCH', '/v1/trunks/trk_pw2', { body: { outbound: { auth_password: 'another-secret' } } });
      expect(replaced.status).toBe(200);
      expect(JSON.stringify(replaced.body)).not.toContain('another-secret');
      expect((await h.catalog.getTrunk('trk_pw2'))?.outbound.auth_password).toBe('another-secret');
    });

    it('removes credentials with null, and refuses a password without its username', async () => {
      await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_pw3') });
      const half = await h.request('PATCH', '/v1/trunks/trk_pw3', { body: { inbound: { auth_username: null } } });
      expect(half.status).toBe(400);
      expect(half.body.error.message).toBe('inbound.auth_username: auth_username and auth_password go together');
      expect(JSON.stringify(half.body)).not.toContain(INBOUND_PASSWORD);

      const cleared = await h.request('PATCH', '/v1/trunks/trk_pw3', { body: { inbound: { auth_username: null, auth_password: null } } });
      expect(cleared.status).toBe(200);
      expect(cleared.body.inbound.auth_password_set).toBe(false);
      expect(cleared.body.inbound).not.toHaveProperty('auth_username');
      const stored = await h.catalog.getTrunk('trk_pw3');
      expect(stored?.inbound).not.toHaveProperty('auth_password');
      expect(stored?.outbound.auth_password).toBe(OUTBOUND_PASSWORD);
    });

    it('does not echo a refused password', async () => {
      const res = await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_pw4', { inbound: { auth_username: 'u', auth_password: 'short' } }) });
      expect(res.status).toBe(400);
      expect(res.body.error.details.errors[0].field).toBe('inbound.auth_password');
      expect(JSON.stringify(res.body)).not.toContain('"short"');
    });
  });

  describe('PATCH (JSON merge patch)', () => {
    it('merges nested objects, replaces arrays, and null restores a default', async () => {
      await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_merge') });
      const res = await h.request('PATCH', '/v1/trunks/trk_merge', {
        body: { inbound: { allowed_cidrs: ['198.51.100.7'], media_encryption: 'required' }, limits: { max_cps: null } },
        contentType: 'application/merge-patch+json',
      });
      expect(res.status).toBe(200);
      // merged: untouched siblings stay
      expect(res.body.inbound).toMatchObject({ allowed_cidrs: ['198.51.100.7'], transports: ['udp', 'tls'], media_encryption: 'required', auth_username: 'in-user' });
      expect(res.body.limits).toEqual({ max_concurrent_calls: 10, max_cps: null });
      expect(res.body.outbound.allowed_countries).toEqual(['US', 'CA']);
      expect(res.body.name).toBe('customer pbx trk_merge');
      const stored = await h.catalog.getTrunk('trk_merge');
      expect(stored?.inbound.allowed_cidrs).toEqual(['198.51.100.7']);
      expect(stored!.updated_at >= stored!.created_at).toBe(true);
      expect(res.body.created_at).toBe(stored?.created_at);
    });

    it('validates the merged result and leaves the trunk unchanged when refused', async () => {
      await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_bad_patch') });
      const before = await h.redis.get(h.keys.trunk('trk_bad_patch'));
      const res = await h.request('PATCH', '/v1/trunks/trk_bad_patch', { body: { outbound: { allowed_countries: ['*', 'US'] }, inbound: { allowed_cidrs: ['::1/129'] } } });
      expect(res.status).toBe(400);
      const fields = res.body.error.details.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).toEqual(['inbound.allowed_cidrs.0', 'outbound.allowed_countries']);
      expect(await h.redis.get(h.keys.trunk('trk_bad_patch'))).toBe(before);
    });

    it('refuses unknown keys and a changed id', async () => {
      await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_id') });
      const unknown = await h.request('PATCH', '/v1/trunks/trk_id', { body: { inbound: { auth_password_set: false } } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.details.errors).toEqual([{ field: 'inbound.auth_password_set', code: 'unknown_field', message: 'unknown field' }]);
      const renamed = await h.request('PATCH', '/v1/trunks/trk_id', { body: { id: 'trk_other' } });
      expect(renamed.status).toBe(422);
      expect(renamed.body.error.code).toBe('immutable_field');
      expect(await h.catalog.getTrunk('trk_other')).toBeNull();
      const same = await h.request('PATCH', '/v1/trunks/trk_id', { body: { id: 'trk_id', name: 'same id is fine' } });
      expect(same).toMatchObject({ status: 200, body: { name: 'same id is fine' } });
    });

    it('answers 404 for a missing trunk and 400 for a body that is not an object', async () => {
      expect((await h.request('PATCH', '/v1/trunks/trk_missing', { body: { name: 'x' } })).status).toBe(404);
      await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_arr') });
      const res = await h.request('PATCH', '/v1/trunks/trk_arr', { body: ['name'] });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/must be a JSON object/);
    });
  });

  describe('listing', () => {
    it('pages through every trunk in id order, limit capped by page_size_max', async () => {
      const prefix = 'trk_page_';
      const ids = Array.from({ length: 7 }, (_, i) => `${prefix}${i}`);
      for (const id of [...ids].reverse()) {
        expect((await h.request('POST', '/v1/trunks', { body: { id, name: id, kind: 'managed', workspace_id: id.endsWith('3') ? 'ws_other' : 'ws_page' } })).status).toBe(201);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=50&cursor=${encodeURIComponent(cursor)}` : '?limit=50';
        const res = await h.request('GET', `/v1/trunks${query}`);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.data.map((t: { id: string }) => t.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor !== null && pages < 20);
      expect(cursor).toBeNull();
      const ours = seen.filter((id) => id.startsWith(prefix));
      expect(ours).toEqual(ids);
      expect(seen).toEqual([...seen].sort());
      expect(new Set(seen).size).toBe(seen.length);
      expect(pages).toBeGreaterThan(2);
    });

    it('filters by workspace_id across pages', async () => {
      const first = await h.request('GET', '/v1/trunks?workspace_id=ws_page&limit=2');
      expect(first.body.data.map((t: { id: string }) => t.id)).toEqual(['trk_page_0', 'trk_page_1']);
      const second = await h.request('GET', `/v1/trunks?workspace_id=ws_page&limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body.data.map((t: { id: string }) => t.id)).toEqual(['trk_page_2', 'trk_page_4']);
      const third = await h.request('GET', `/v1/trunks?workspace_id=ws_page&limit=2&cursor=${second.body.next_cursor}`);
      expect(third.body).toEqual({ data: [expect.objectContaining({ id: 'trk_page_5' }), expect.objectContaining({ id: 'trk_page_6' })], next_cursor: null });
      const other = await h.request('GET', '/v1/trunks?workspace_id=ws_other');
      expect(other.body).toEqual({ data: [expect.objectContaining({ id: 'trk_page_3' })], next_cursor: null });
    });

    it.each([
      ['?limit=0', 'query.limit'],
      ['?limit=abc', 'query.limit'],
      ['?limit=1.5', 'query.limit'],
      ['?page=2', 'query.page'],
    ])('refuses %s with 400 naming %s', async (query, field) => {
      const res = await h.request('GET', `/v1/trunks${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details.errors[0].field).toBe(field);
      expect(res.body.error.message).toContain(`${field}: `);
    });
  });

  it('refuses to delete a trunk numbers arrive on (409 in_use)', async () => {
    await h.request('POST', '/v1/trunks', { body: byocTrunk('trk_used') });
    const num = await h.request('POST', '/v1/phone-numbers', { body: { id: 'num_on_trunk', phone_number: '+15550300001', workspace_id: 'ws_t', telephony: 'byoc', trunk_id: 'trk_used' } });
    expect(num.status).toBe(201);
    const res = await h.request('DELETE', '/v1/trunks/trk_used');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'in_use', details: { phone_number_ids: ['num_on_trunk'] } });
    expect(await h.catalog.getTrunk('trk_used')).not.toBeNull();
  });
});
