import { redisSection } from '../helpers/testRedis.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerDoNotCall } from '../../src/admin/routes/dnc.js';
import { configSchema } from '../../src/config/schema.js';
import { RedisDoNotCallList } from '../../src/stores/dnc.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { testPrefix } from '../helpers/fixtures.js';
import { dumpPrefix, startAdmin, type AdminHarness } from './adminHarness.js';

const WS = '/v1/workspaces/ws_dnc/dnc';

/** Do-not-call lists over the real admin server and Redis: CRUD, check, pages, bulk import. */
describe('admin API: do-not-call lists', () => {
  let h: AdminHarness;
  let redis: RedisClient;
  let list: RedisDoNotCallList;
  const prefix = testPrefix();
  const keys = redisKeys(prefix);

  beforeAll(async () => {
    const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { ...redisSection(), key_prefix: prefix } });
    redis = createRedis(config.redis, 'test-dnc');
    await whenReady(redis, 5000);
    list = new RedisDoNotCallList(redis, keys);
    h = await startAdmin({
      redisUrl: inject('redisUrl'),
      plugins: [(app) => registerDoNotCall(app, { list, defaultCountry: 'GB', pageSizeMax: 3, importMaxRows: 50, importMaxBytes: 4096 })],
    });
  });
  afterAll(async () => {
    await h?.close();
    redis?.disconnect();
  });

  it('adds a number in any notation as E.164, once; checks and removes it', async () => {
    const added = await h.request('POST', WS, { body: { phone_number: '020 7123 4567', reason: 'customer asked' } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ phone_number: '+442071234567', reason: 'customer asked' });
    expect(Date.parse(added.body.added_at)).toBeGreaterThan(Date.now() - 60_000);
    const again = await h.request('POST', WS, { body: { phone_number: '+44 20 7123 4567', reason: 'other' } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(added.body);

    const check = await h.request('GET', `${WS}/${encodeURIComponent('+44 (20) 7123-4567')}`);
    expect(check.body).toEqual({ phone_number: '+442071234567', listed: true, listing: 'workspace', entry: added.body });
    expect((await list.listing('ws_dnc', '+442071234567'))).toBe('workspace');
    expect((await list.listing('ws_other', '+442071234567'))).toBeNull();

    expect((await h.request('DELETE', `${WS}/+442071234567`)).status).toBe(204);
    expect((await h.request('GET', `${WS}/+442071234567`)).body).toMatchObject({ listed: false, listing: null, entry: null });
    expect((await h.request('DELETE', `${WS}/+442071234567`)).body.error.code).toBe('not_listed');
    expect(await list.listing('ws_dnc', '+442071234567')).toBeNull();
  });

  it("the platform's list applies to every workspace; a workspace check says so", async () => {
    expect((await h.request('POST', '/v1/dnc', { body: { phone_number: '+12025550100' } })).status).toBe(201);
    expect((await h.request('GET', '/v1/workspaces/ws_any/dnc/+12025550100')).body).toMatchObject({ listed: true, listing: 'platform' });
    expect(await list.listing('ws_any', '+12025550100')).toBe('platform');
    expect((await h.request('GET', '/v1/dnc/+12025550100')).body).toMatchObject({ listed: true, listing: 'platform' });
    expect((await h.request('DELETE', '/v1/dnc/+12025550100')).status).toBe(204);
    expect(await list.listing('ws_any', '+12025550100')).toBeNull();
  });

  it('refuses what is not a phone number with 400 naming the field', async () => {
    const body = await h.request('POST', WS, { body: { phone_number: 'reception' } });
    expect(body.status).toBe(400);
    expect(body.body.error.details.errors[0]).toMatchObject({ field: 'phone_number', code: 'invalid_phone_number' });
    const path = await h.request('GET', `${WS}/not-a-number`);
    expect(path.status).toBe(400);
    expect(path.body.error.details.errors[0].field).toBe('number');
    expect((await h.request('POST', WS, { body: { phone_number: '+12025550101', extra: 1 } })).status).toBe(400);
  });

  it('imports CSV all or nothing: one bad row lists every refused row with its line and changes nothing', async () => {
    const before = await dumpPrefix(redis, prefix);
    const csv = 'phone_number,reason\n+1 202 555 0111,TPS\nnope,x\n12025550112,\n"+1 (202) 555-0113","comma, inside"\n,empty\n';
    const refused = await h.request('POST', `${WS}/import`, { body: csv, contentType: 'text/csv' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('import_rejected');
    expect(refused.body.error.details.errors.map((e: { row: number; line: number }) => [e.row, e.line])).toEqual([
      [1, 3],
      [4, 6],
    ]);
    expect(await dumpPrefix(redis, prefix)).toEqual(before);

    const ok = await h.request('POST', `${WS}/import`, { body: csv.replace('nope,x\n', '').replace(',empty\n', '+12025550111,dup\n'), contentType: 'text/csv' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ rows: 4, added: 3, already_listed: 0 });
    expect((await h.request('GET', `${WS}/+12025550113`)).body.entry).toMatchObject({ reason: 'comma, inside' });
    expect((await h.request('GET', `${WS}/+12025550111`)).body.entry).toMatchObject({ reason: 'TPS' });
    const json = await h.request('POST', `${WS}/import`, { body: ['+12025550111', { phone_number: '+12025550114', reason: 'web form' }] });
    expect(json.body).toEqual({ rows: 2, added: 1, already_listed: 1 });
  });

  it('refuses an import over its limits: rows (413), bytes (413), a CSV without phone_number column (400)', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `+1202555${String(2000 + i)}`);
    expect((await h.request('POST', `${WS}/import`, { body: many })).body.error.code).toBe('too_many_rows');
    expect((await h.request('POST', `${WS}/import`, { body: `phone_number\n${'+12025550100\n'.repeat(400)}`, contentType: 'text/csv' })).status).toBe(413);
    expect((await h.request('POST', `${WS}/import`, { body: 'number\n+12025550100\n', contentType: 'text/csv' })).body.error.code).toBe('invalid_request');
  });

  it('pages through a list in E.164 order, each number exactly once', async () => {
    const numbers = Array.from({ length: 7 }, (_, i) => `+1303555${String(1000 + i)}`);
    await h.request('POST', '/v1/workspaces/ws_pages/dnc/import', { body: [...numbers].reverse() });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: { body: { data: { phone_number: string }[]; next_cursor: string | null } } = await h.request('GET', `/v1/workspaces/ws_pages/dnc?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((e) => e.phone_number));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(numbers);
  });
});
