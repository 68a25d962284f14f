import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dumpPrefix, startAdmin, type AdminHarness } from './adminHarness.js';

const IMPORT = '/v1/phone-numbers/import';
const MAX_ROWS = 20;

const row = (e164: string, extra: Record<string, unknown> = {}) => ({ phone_number: e164, workspace_id: 'ws_i', telephony: 'imported', provider: 'twilio', ...extra });

describe('admin API: bulk import of phone numbers', () => {
  let h: AdminHarness;

  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl'), admin: { import_max_rows: MAX_ROWS } });
    for (const id of ['agt_i1', 'agt_i2']) {
      await h.request('POST', '/v1/agents', { body: { id, workspace_id: 'ws_i', name: id, sip_uri: `sip:${id}@10.0.0.1` } });
    }
    await h.request('POST', '/v1/agents', { body: { id: 'agt_other_ws', workspace_id: 'ws_other', name: 'x', sip_uri: 'sip:x@10.0.0.2' } });
    await h.request('POST', '/v1/trunks', { body: { id: 'trk_byoc_i', name: 'pbx', kind: 'byoc', workspace_id: 'ws_i' } });
  });
  afterAll(async () => {
    await h.close();
  });

  /** Runs a request that must be refused and proves Redis under the prefix did not change at all. */
  async function refusedWithoutTrace(body: unknown, contentType?: string) {
    const before = await dumpPrefix(h.redis, h.keys.prefix);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const res = await h.request('POST', IMPORT, { body, ...(contentType ? { contentType } : {}) });
    expect(await dumpPrefix(h.redis, h.keys.prefix)).toEqual(before);
    return res;
  }

  describe('JSON', () => {
    it('imports an array of numbers, ids generated where missing', async () => {
      const res = await h.request('POST', IMPORT, {
        body: [row('+15550200001', { id: 'num_imp_1', inbound_routing: { agent_id: 'agt_i1' } }), row('+15550200002', { provider: 'telnyx' }), row('+15550200003', { telephony: 'byoc', provider: 'acme', trunk_id: 'trk_byoc_i' })],
      });
      expect(res.status).toBe(201);
      expect(res.body.imported).toBe(3);
      expect(res.body.data.map((n: { phone_number: string }) => n.phone_number)).toEqual(['+15550200001', '+15550200002', '+15550200003']);
      expect(res.body.data[0].id).toBe('num_imp_1');
      expect(res.body.data[1].id).toMatch(/^num_/);
      for (const n of res.body.data) expect((await h.catalog.getNumberByE164(n.phone_number))?.id).toBe(n.id);
    });

    it('imports {"numbers": [...]} too', async () => {
      const res = await h.request('POST', IMPORT, { body: { numbers: [row('+15550200011'), row('+15550200012')] } });
      expect(res).toMatchObject({ status: 201, body: { imported: 2 } });
    });

    it('refuses one invalid row among valid ones: 422, every problem listed, nothing written', async () => {
      const res = await refusedWithoutTrace([
        row('+15550200021'),
        row('+15550200022', { provider: 'vonage', colour: 'blue' }),
        row('+15550200023'),
        row('not-a-number'),
      ]);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('import_rejected');
      expect(res.body.error.message).toBe('2 of 4 row(s) refused; nothing was imported');
      expect(res.body.error.details.errors).toEqual([
        { row: 1, field: 'colour', code: 'unknown_field', message: 'unknown field' },
        { row: 1, field: 'provider', code: 'invalid_field', message: 'imported numbers come from twilio or telnyx' },
        { row: 3, field: 'phone_number', code: 'invalid_field', message: 'must be an E.164 number such as +14155550100' },
      ]);
      expect(await h.catalog.getNumberByE164('+15550200021')).toBeNull();
    });

    it('refuses a batch with one already registered number: 409 number_already_imported, nothing written', async () => {
      const res = await refusedWithoutTrace([row('+15550200031'), row('+15550200001'), row('+15550200032')]);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('number_already_imported');
      expect(res.body.error.details.errors).toEqual([{ row: 1, field: 'phone_number', code: 'number_already_imported', message: '+15550200001 is already registered' }]);
      expect(await h.catalog.getNumberByE164('+15550200031')).toBeNull();
    });

    it('answers 422 when a duplicate comes with other refusals (dangling, cross-workspace, repeated in the request)', async () => {
      const res = await refusedWithoutTrace([
        row('+15550200041', { inbound_routing: { agent_id: 'agt_ghost' } }),
        row('+15550200002'),
        row('+15550200042', { agent_id: 'agt_other_ws' }),
        row('+15550200043'),
        row('+15550200043'),
      ]);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('import_rejected');
      const byRow = res.body.error.details.errors.map((e: { row: number; field: string; code: string }) => [e.row, e.field, e.code]);
      expect(byRow).toEqual(
        expect.arrayContaining([
          [0, 'inbound_routing.agent_id', 'reference_not_found'],
          [1, 'phone_number', 'number_already_imported'],
          [2, 'agent_id', 'workspace_mismatch'],
          [4, 'phone_number', 'duplicate_in_request'],
        ]),
      );
      expect(res.body.error.details.error_count).toBe(4);
    });

    it('keeps the shape of a bulk refusal for a one-row import', async () => {
      const res = await refusedWithoutTrace([row('+15550200051', { trunk_id: 'trk_ghost' })]);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('import_rejected');
      expect(res.body.error.details.errors).toEqual([expect.objectContaining({ row: 0, field: 'trunk_id', code: 'reference_not_found' })]);
    });

    it(`refuses more than ${MAX_ROWS} rows with 413 and an empty import with 400`, async () => {
      const many = Array.from({ length: MAX_ROWS + 1 }, (_, i) => row(`+155502010${String(i).padStart(2, '0')}`));
      const tooMany = await refusedWithoutTrace(many);
      expect(tooMany.status).toBe(413);
      expect(tooMany.body.error).toMatchObject({ code: 'too_many_rows', details: { max_rows: MAX_ROWS } });
      const exactly = await h.request('POST', IMPORT, { body: many.slice(0, MAX_ROWS) });
      expect(exactly).toMatchObject({ status: 201, body: { imported: MAX_ROWS } });
      expect((await refusedWithoutTrace([])).status).toBe(400);
    });

    it('refuses an envelope with other keys, naming them', async () => {
      const res = await refusedWithoutTrace({ numbers: [row('+15550200061')], dry_run: true });
      expect(res.status).toBe(400);
      expect(res.body.error.details.errors).toEqual([{ field: 'dry_run', code: 'unknown_field', message: 'unknown field' }]);
    });
  });

  describe('CSV', () => {
    it('imports text/csv with quoted fields, embedded commas, quotes and line breaks', async () => {
      const csv = [
        'phone_number,workspace_id,telephony,provider,friendly_name,inbound_agent_id,fallback_agent_id,voicemail_message,verified,id',
        '+15550200101,ws_i,imported,twilio,"Sales, EMEA",agt_i1,agt_i2,"Sorry, we are out.\r\nPlease say ""hello"" after the tone.",true,num_csv_1',
        '+15550200102,ws_i,managed,,Support,,,,,',
        '+15550200103,ws_i,personal,,"",,,,yes,',
      ].join('\r\n');
      const res = await h.request('POST', IMPORT, { body: `${csv}\r\n`, contentType: 'text/csv' });
      expect(res.status).toBe(201);
      expect(res.body.imported).toBe(3);
      const first = await h.catalog.getNumber('num_csv_1');
      expect(first).toMatchObject({
        phone_number: '+15550200101',
        friendly_name: 'Sales, EMEA',
        provider: 'twilio',
        verified: true,
        inbound_routing: { agent_id: 'agt_i1', fallback: { agent_id: 'agt_i2' }, voicemail_message: 'Sorry, we are out.\r\nPlease say "hello" after the tone.' },
      });
      const second = await h.catalog.getNumberByE164('+15550200102');
      expect(second).toMatchObject({ telephony: 'managed', provider: 'platform', friendly_name: 'Support', inbound_routing: null, verified: false });
      expect(await h.catalog.getNumberByE164('+15550200103')).toMatchObject({ telephony: 'personal', verified: true, inbound_routing: null });
    });

    it('names CSV columns and lines in row errors, and writes nothing', async () => {
      const csv = [
        'phone_number,workspace_id,telephony,provider,inbound_agent_id,voicemail_message,verified',
        '+15550200111,ws_i,imported,twilio,agt_i1,,false',
        '+15550200112,ws_i,imported,twilio,,"a message\nwithout an agent",false',
        '+15550200113,ws_i,managed,,agt_ghost,,maybe',
        '+15550200114,ws_i,managed,',
      ].join('\n');
      const res = await refusedWithoutTrace(csv, 'text/csv');
      expect(res.status).toBe(422);
      expect(res.body.error.details.errors).toEqual([
        { row: 1, line: 3, field: 'inbound_agent_id', code: 'invalid_field', message: expect.stringMatching(/expected string/) },
        { row: 2, line: 5, field: 'verified', code: 'invalid_field', message: expect.stringMatching(/expected boolean/) },
        { row: 3, line: 6, field: '(row)', code: 'invalid_row', message: 'has 4 fields, the header has 7' },
      ]);
    });

    it('maps catalog refusals back to CSV columns', async () => {
      const csv = 'phone_number,workspace_id,telephony,fallback_agent_id,inbound_agent_id\n+15550200121,ws_i,managed,agt_other_ws,agt_i1\n';
      const res = await refusedWithoutTrace(csv, 'text/csv');
      expect(res.status).toBe(422);
      expect(res.body.error.details.errors).toEqual([expect.objectContaining({ row: 0, line: 2, field: 'fallback_agent_id', code: 'workspace_mismatch' })]);
    });

    it('refuses unknown and repeated columns with 400', async () => {
      const res = await refusedWithoutTrace('phone_number,workspace_id,telephony,colour,telephony\n+15550200131,ws_i,managed,red,managed\n', 'text/csv');
      expect(res.status).toBe(400);
      expect(res.body.error.details.errors).toEqual([
        expect.objectContaining({ field: 'colour', code: 'unknown_column' }),
        expect.objectContaining({ field: 'telephony', code: 'duplicate_column' }),
      ]);
    });

    it('refuses malformed CSV with 400 and the line', async () => {
      const res = await refusedWithoutTrace('phone_number,workspace_id,telephony\n+15550200141,ws_i,"managed\n', 'text/csv');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('(body): line 2: unterminated quoted field');
    });

    it(`refuses more than ${MAX_ROWS} CSV rows with 413`, async () => {
      const lines = Array.from({ length: MAX_ROWS + 1 }, (_, i) => `+155502020${String(i).padStart(2, '0')},ws_i,managed`);
      const res = await refusedWithoutTrace(['phone_number,workspace_id,telephony', ...lines].join('\n'), 'text/csv');
      expect(res.status).toBe(413);
    });

    it('is accepted on the import route only', async () => {
      const res = await h.request('POST', '/v1/phone-numbers', { body: 'phone_number\n+15550200151\n', contentType: 'text/csv' });
      expect(res.status).toBe(415);
    });
  });
});
