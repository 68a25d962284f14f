import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dumpPrefix, startAdmin, type AdminHarness } from './adminHarness.js';

const agentBody = (id: string, workspace = 'ws_a') => ({ id, workspace_id: workspace, name: `agent ${id}`, sip_uri: `sip:${id}@agents.example.com:5060` });

describe('admin API: /v1/agents and /v1/phone-numbers', () => {
  let h: AdminHarness;

  beforeAll(async () => {
    h = await startAdmin({ redisUrl: inject('redisUrl'), admin: { page_size_max: 4 } });
    for (const [id, ws] of [['agt_main', 'ws_a'], ['agt_backup', 'ws_a'], ['agt_elsewhere', 'ws_b']] as const) {
      expect((await h.request('POST', '/v1/agents', { body: agentBody(id, ws) })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await h.close();
  });

  describe('agents', () => {
    it('creates (id generated), reads, patches and deletes an agent', async () => {
      const { id: _id, ...withoutId } = agentBody('x');
      const created = await h.request('POST', '/v1/agents', { body: withoutId });
      expect(created.status).toBe(201);
      const id: string = created.body.id;
      expect(id).toMatch(/^agt_/);
      expect(await h.request('GET', `/v1/agents/${id}`)).toMatchObject({ status: 200, body: { id, sip_uri: 'sip:x@agents.example.com:5060' } });

      const patched = await h.request('PATCH', `/v1/agents/${id}`, { body: { sip_uri: 'sips:x@agents.example.com' } });
      expect(patched).toMatchObject({ status: 200, body: { id, name: 'agent x', sip_uri: 'sips:x@agents.example.com' } });
      expect((await h.catalog.getAgent(id))?.sip_uri).toBe('sips:x@agents.example.com');

      expect((await h.request('DELETE', `/v1/agents/${id}`)).status).toBe(204);
      expect((await h.request('GET', `/v1/agents/${id}`)).status).toBe(404);
    });

    it('refuses a bad SIP URI naming sip_uri', async () => {
      const res = await h.request('POST', '/v1/agents', { body: { ...agentBody('agt_bad'), sip_uri: 'http://nope' } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('sip_uri: must be a sip: or sips: URI with a host');
    });

    it('refuses deleting an agent a number routes to (409 in_use), then allows it once unused', async () => {
      await h.request('POST', '/v1/agents', { body: agentBody('agt_busy') });
      const num = await h.request('POST', '/v1/phone-numbers', {
        body: { id: 'num_busy', phone_number: '+15550100001', workspace_id: 'ws_a', telephony: 'managed', inbound_routing: { agent_id: 'agt_busy' } },
      });
      expect(num.status).toBe(201);
      const refused = await h.request('DELETE', '/v1/agents/agt_busy');
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'in_use', details: { phone_number_ids: ['num_busy'] } });
      expect(await h.catalog.getAgent('agt_busy')).not.toBeNull();

      const moved = await h.request('PATCH', '/v1/phone-numbers/num_busy', { body: { inbound_routing: { agent_id: 'agt_main' } } });
      expect(moved.status).toBe(200);
      expect((await h.request('DELETE', '/v1/agents/agt_busy')).status).toBe(204);
    });

    it('refuses moving a used agent to another workspace (409 in_use)', async () => {
      await h.request('POST', '/v1/phone-numbers', {
        body: { id: 'num_pin', phone_number: '+15550100002', workspace_id: 'ws_a', telephony: 'managed', agent_id: 'agt_backup' },
      });
      const res = await h.request('PATCH', '/v1/agents/agt_backup', { body: { workspace_id: 'ws_b' } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('in_use');
      expect((await h.catalog.getAgent('agt_backup'))?.workspace_id).toBe('ws_a');
    });

    it('lists agents across pages', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 10; i++) {
        const res = await h.request('GET', `/v1/agents?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((a: { id: string }) => a.id));
        cursor = res.body.next_cursor;
        if (cursor === null) break;
      }
      expect(cursor).toBeNull();
      expect(seen).toEqual(expect.arrayContaining(['agt_backup', 'agt_elsewhere', 'agt_main']));
      expect(seen).toEqual([...seen].sort());
      expect(new Set(seen).size).toBe(seen.length);
    });
  });

  describe('phone numbers', () => {
    const base = { workspace_id: 'ws_a', telephony: 'managed' } as const;

    it('creates with defaults, reads, lists, patches and deletes a number', async () => {
      const created = await h.request('POST', '/v1/phone-numbers', {
        body: { ...base, phone_number: '+15550110001', inbound_routing: { agent_id: 'agt_main', fallback: { agent_id: 'agt_backup' }, voicemail_message: 'Leave a message' } },
      });
      expect(created.status).toBe(201);
      const id: string = created.body.id;
      expect(id).toMatch(/^num_/);
      expect(created.body).toMatchObject({ status: 'active', provider: 'platform', trunk_id: null, agent_id: null, verified: false, friendly_name: '' });
      expect(await h.request('GET', `/v1/phone-numbers/${id}`)).toMatchObject({ status: 200, body: created.body });
      expect((await h.catalog.getNumberByE164('+15550110001'))?.id).toBe(id);

      const patched = await h.request('PATCH', `/v1/phone-numbers/${id}`, { body: { friendly_name: 'Sales', inbound_routing: { fallback: null } } });
      expect(patched.status).toBe(200);
      expect(patched.body.inbound_routing).toEqual({ agent_id: 'agt_main', fallback: null, voicemail_message: 'Leave a message' });
      expect(patched.body.friendly_name).toBe('Sales');

      const outboundOnly = await h.request('PATCH', `/v1/phone-numbers/${id}`, { body: { inbound_routing: null } });
      expect(outboundOnly.body.inbound_routing).toBeNull();

      expect((await h.request('DELETE', `/v1/phone-numbers/${id}`)).status).toBe(204);
      expect((await h.request('GET', `/v1/phone-numbers/${id}`)).status).toBe(404);
      expect(await h.catalog.getNumberByE164('+15550110001')).toBeNull();
    });

    it('refuses a number that is already registered with 409 number_already_imported', async () => {
      expect((await h.request('POST', '/v1/phone-numbers', { body: { ...base, id: 'num_first', phone_number: '+15550110002' } })).status).toBe(201);
      const before = await dumpPrefix(h.redis, h.keys.prefix);
      const again = await h.request('POST', '/v1/phone-numbers', { body: { ...base, workspace_id: 'ws_b', phone_number: '+15550110002' } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('number_already_imported');
      expect(again.body.error.details.errors).toEqual([expect.objectContaining({ field: 'phone_number', code: 'number_already_imported' })]);
      expect(await dumpPrefix(h.redis, h.keys.prefix)).toEqual(before);
    });

    it('refuses a malformed number naming phone_number', async () => {
      const res = await h.request('POST', '/v1/phone-numbers', { body: { ...base, phone_number: '555-0100' } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('phone_number: must be an E.164 number such as +14155550100');
    });

    it.each([
      ['a dangling inbound agent', { inbound_routing: { agent_id: 'agt_ghost' } }, 'inbound_routing.agent_id', 'reference_not_found'],
      ['a dangling fallback agent', { inbound_routing: { agent_id: 'agt_main', fallback: { agent_id: 'agt_ghost' } } }, 'inbound_routing.fallback.agent_id', 'reference_not_found'],
      ['a dangling trunk', { trunk_id: 'trk_ghost' }, 'trunk_id', 'reference_not_found'],
      ['an agent of another workspace', { inbound_routing: { agent_id: 'agt_elsewhere' } }, 'inbound_routing.agent_id', 'workspace_mismatch'],
      ['an outbound agent of another workspace', { agent_id: 'agt_elsewhere' }, 'agent_id', 'workspace_mismatch'],
    ])('refuses %s with 422 naming the field', async (_name, extra, field, code) => {
      const before = await dumpPrefix(h.redis, h.keys.prefix);
      const res = await h.request('POST', '/v1/phone-numbers', { body: { ...base, phone_number: '+15550110003', ...extra } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.details.errors).toContainEqual(expect.objectContaining({ field, code }));
      expect(await dumpPrefix(h.redis, h.keys.prefix)).toEqual(before);
    });

    it('refuses a number on a trunk of another workspace with 422 workspace_mismatch', async () => {
      expect((await h.request('POST', '/v1/trunks', { body: { id: 'trk_ws_b', name: 'b', kind: 'byoc', workspace_id: 'ws_b' } })).status).toBe(201);
      const res = await h.request('POST', '/v1/phone-numbers', { body: { ...base, telephony: 'byoc', phone_number: '+15550110004', trunk_id: 'trk_ws_b' } });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'workspace_mismatch', details: { errors: [expect.objectContaining({ field: 'trunk_id' })] } });
    });

    it('refuses a patch to a dangling agent with 422 and keeps the number as it was', async () => {
      await h.request('POST', '/v1/phone-numbers', { body: { ...base, id: 'num_keep', phone_number: '+15550110005', inbound_routing: { agent_id: 'agt_main' } } });
      const before = await dumpPrefix(h.redis, h.keys.prefix);
      const res = await h.request('PATCH', '/v1/phone-numbers/num_keep', { body: { inbound_routing: { agent_id: 'agt_ghost' } } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('reference_not_found');
      expect(await dumpPrefix(h.redis, h.keys.prefix)).toEqual(before);
    });

    it('follows the status lifecycle; a forbidden transition is 409 invalid_status_transition', async () => {
      await h.request('POST', '/v1/phone-numbers', { body: { ...base, id: 'num_life', phone_number: '+15550110006', status: 'provisioning' } });
      const suspend = await h.request('PATCH', '/v1/phone-numbers/num_life', { body: { status: 'suspended' } });
      expect(suspend.status).toBe(409);
      expect(suspend.body.error).toMatchObject({ code: 'invalid_status_transition', details: { allowed: ['active', 'released'] } });
      expect((await h.request('PATCH', '/v1/phone-numbers/num_life', { body: { status: 'active' } })).body.status).toBe('active');
      expect((await h.request('PATCH', '/v1/phone-numbers/num_life', { body: { status: 'released' } })).body.status).toBe('released');
      const back = await h.request('PATCH', '/v1/phone-numbers/num_life', { body: { status: 'active' } });
      expect(back.status).toBe(409);
      expect(back.body.error.code).toBe('invalid_status_transition');
      expect((await h.catalog.getNumber('num_life'))?.status).toBe('released');
    });

    it('refuses changing the E.164 of a number (422 immutable_field) and model rules (400)', async () => {
      await h.request('POST', '/v1/phone-numbers', { body: { ...base, id: 'num_fixed', phone_number: '+15550110007' } });
      const moved = await h.request('PATCH', '/v1/phone-numbers/num_fixed', { body: { phone_number: '+15550110008' } });
      expect(moved.status).toBe(422);
      expect(moved.body.error.code).toBe('immutable_field');
      const personal = await h.request('PATCH', '/v1/phone-numbers/num_fixed', { body: { telephony: 'personal', inbound_routing: { agent_id: 'agt_main' } } });
      expect(personal.status).toBe(400);
      expect(personal.body.error.message).toBe('inbound_routing: personal numbers are outbound only');
      const imported = await h.request('PATCH', '/v1/phone-numbers/num_fixed', { body: { telephony: 'imported' } });
      expect(imported.status).toBe(400);
      expect(imported.body.error.details.errors).toEqual([{ field: 'provider', code: 'invalid_field', message: 'imported numbers come from twilio or telnyx' }]);
      expect((await h.request('PATCH', '/v1/phone-numbers/num_fixed', { body: { telephony: 'imported', provider: 'twilio' } })).status).toBe(200);
    });

    it('lists numbers across pages and by workspace', async () => {
      for (let i = 0; i < 5; i++) {
        const res = await h.request('POST', '/v1/phone-numbers', { body: { workspace_id: 'ws_list', telephony: 'managed', id: `num_list_${i}`, phone_number: `+1555012000${i}` } });
        expect(res.status).toBe(201);
      }
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await h.request('GET', `/v1/phone-numbers?workspace_id=ws_list&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        ids.push(...res.body.data.map((n: { id: string }) => n.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(ids).toEqual(['num_list_0', 'num_list_1', 'num_list_2', 'num_list_3', 'num_list_4']);
      expect(pages).toBe(3);
      const all = await h.request('GET', '/v1/phone-numbers?limit=1000');
      expect(all.body.data.length).toBe(4);
      expect(all.body.next_cursor).not.toBeNull();
    });
  });
});
