import { describe, expect, it } from 'vitest';
import { resolveRoute } from '../../../src/pipeline/steps/route.js';
import type { CalledNumber } from '../../../src/pipeline/types.js';
import { agentRecord, FakeRouteStore, numberRecord, trunkRecord } from '../support/fakes.js';

const shared = trunkRecord({ id: 'shared', workspace_id: null });
const ws1Trunk = trunkRecord({ id: 'ws1-trunk', workspace_id: 'ws_1' });
const ws2Trunk = trunkRecord({ id: 'ws2-trunk', workspace_id: 'ws_2' });
const byocA = trunkRecord({ id: 'byoc-a', kind: 'byoc', workspace_id: 'ws_1' });
const byocB = trunkRecord({ id: 'byoc-b', kind: 'byoc', workspace_id: 'ws_1' });

const primary = agentRecord({ id: 'agent-primary', workspace_id: 'ws_1' });
const fallback = agentRecord({ id: 'agent-fallback', workspace_id: 'ws_1' });
const routing = { agent_id: 'agent-primary' };

const N = {
  active: numberRecord({ phone_number: '+15550001001', inbound_routing: routing }),
  withFallback: numberRecord({
    phone_number: '+15550001002',
    inbound_routing: { agent_id: 'agent-primary', fallback: { agent_id: 'agent-fallback' }, voicemail_message: 'Leave a message' },
  }),
  released: numberRecord({ phone_number: '+15550001003', status: 'released', inbound_routing: routing }),
  outboundOnly: numberRecord({ phone_number: '+15550001004', inbound_routing: null }),
  personal: numberRecord({ phone_number: '+15550001005', telephony: 'personal', verified: true }),
  provisioning: numberRecord({ phone_number: '+15550001006', status: 'provisioning', inbound_routing: routing }),
  suspended: numberRecord({ phone_number: '+15550001007', status: 'suspended', inbound_routing: routing }),
  byocOnA: numberRecord({ phone_number: '+15550001008', telephony: 'byoc', provider: 'pbx', trunk_id: 'byoc-a', inbound_routing: routing }),
  missingAgent: numberRecord({ phone_number: '+15550001009', inbound_routing: { agent_id: 'agent-gone' } }),
  missingFallback: numberRecord({
    phone_number: '+15550001010',
    inbound_routing: { agent_id: 'agent-primary', fallback: { agent_id: 'agent-gone' } },
  }),
};

const did = (e164: string): CalledNumber => ({ raw: e164, e164, read: true });
const store = () => new FakeRouteStore({ numbers: Object.values(N), agents: [primary, fallback] });

describe('resolveRoute (route step)', () => {
  it.each([
    ['unknown number', shared, '+15559999999', 'number_not_found'],
    ['released number', shared, N.released.phone_number, 'number_released'],
    ['number without inbound routing', shared, N.outboundOnly.phone_number, 'number_outbound_only'],
    ['personal number', shared, N.personal.phone_number, 'number_outbound_only'],
    ['provisioning number', shared, N.provisioning.phone_number, 'number_provisioning'],
    ['suspended number', shared, N.suspended.phone_number, 'number_suspended'],
    ['number of ws_1 on a trunk of ws_2', ws2Trunk, N.active.phone_number, 'number_wrong_workspace'],
    ['byoc number arriving on another byoc trunk', byocB, N.byocOnA.phone_number, 'number_wrong_trunk'],
    ['byoc number arriving on a shared carrier trunk', shared, N.byocOnA.phone_number, 'number_wrong_trunk'],
    ['primary agent missing', shared, N.missingAgent.phone_number, 'agent_not_found'],
  ])('%s -> %s', async (_name, trunk, e164, reason) => {
    expect(await resolveRoute(trunk, did(e164), store())).toMatchObject({ kind: 'reject', reason });
  });

  it.each([
    ['number lookups', 'number' as const],
    ['agent lookups', 'agent' as const],
  ])('store unavailable for %s -> route_unavailable', async (_name, kind) => {
    const s = store();
    s.failing.add(kind);
    expect(await resolveRoute(shared, did(N.active.phone_number), s)).toMatchObject({ kind: 'reject', reason: 'route_unavailable' });
  });

  it.each([
    ['shared carrier trunk', shared, N.active],
    ['trunk of the same workspace', ws1Trunk, N.active],
    ['byoc number on its own trunk', byocA, N.byocOnA],
  ])('active number on a %s -> primary agent only', async (_name, trunk, number) => {
    const decision = await resolveRoute(trunk, did(number.phone_number), store());
    expect(decision.kind).toBe('continue');
    if (decision.kind !== 'continue') return;
    expect(decision.value.number.id).toBe(number.id);
    expect(decision.value.targets.map((t) => [t.role, t.agent.id])).toEqual([['primary', 'agent-primary']]);
    expect(decision.value.voicemailMessage).toBeNull();
  });

  it('fallback present -> targets primary then fallback, with the voicemail message', async () => {
    const decision = await resolveRoute(ws1Trunk, did(N.withFallback.phone_number), store());
    expect(decision.kind).toBe('continue');
    if (decision.kind !== 'continue') return;
    expect(decision.value.targets.map((t) => [t.role, t.agent.id])).toEqual([
      ['primary', 'agent-primary'],
      ['fallback', 'agent-fallback'],
    ]);
    expect(decision.value.targets[0]?.agent.sip_uri).toBe(primary.sip_uri);
    expect(decision.value.voicemailMessage).toBe('Leave a message');
  });

  it('a fallback agent that no longer exists is left out; the primary still takes the call', async () => {
    const decision = await resolveRoute(shared, did(N.missingFallback.phone_number), store());
    expect(decision.kind).toBe('continue');
    if (decision.kind === 'continue') expect(decision.value.targets.map((t) => t.role)).toEqual(['primary']);
  });

  it('looks the number up by its E.164 form, not the raw value', async () => {
    const s = store();
    await resolveRoute(shared, { raw: 'tel:+1-555-000-1001', e164: '+15550001001', read: true }, s);
    expect(s.lookups[0]).toBe('number:+15550001001');
  });
});
