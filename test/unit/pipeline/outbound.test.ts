import { describe, expect, it } from 'vitest';
import { carrierFailsOver, carrierUri } from '../../../src/calls/outboundBridge.js';
import type { FailureKind } from '../../../src/calls/classify.js';
import { normaliseNumber } from '../../../src/domain/e164.js';
import { evaluateOutbound, type OutboundPipelineDeps } from '../../../src/pipeline/outbound.js';
import type { RejectReason } from '../../../src/pipeline/reasons.js';
import { checkDestinationPolicy } from '../../../src/pipeline/steps/outbound/destination.js';
import type { OutboundStep } from '../../../src/pipeline/types.js';
import type { DoNotCallLookup } from '../../../src/stores/dnc.js';
import { agentRecord, FakeLimiter, FakeRouteStore, numberRecord, request, sdp, trunkRecord, CRYPTO, type RequestInit } from '../support/fakes.js';

const carrier = trunkRecord({
  id: 'carrier',
  outbound: { termination_uris: [{ uri: 'sip:gw1.carrier.example', priority: 10 }], allowed_countries: ['GB', 'US'] },
});
const worldwide = trunkRecord({ id: 'worldwide', outbound: { termination_uris: [{ uri: 'sip:gw.example', priority: 1 }], allowed_countries: ['*'], block_premium: false } });
const bare = trunkRecord({ id: 'bare' });
const srtpOnly = trunkRecord({ id: 'srtp', outbound: { termination_uris: [{ uri: 'sip:gw.example', priority: 1 }], allowed_countries: ['*'], media_encryption: 'required' } });
const otherWs = trunkRecord({ id: 'other-ws', workspace_id: 'ws_2', outbound: { termination_uris: [{ uri: 'sip:gw.example', priority: 1 }], allowed_countries: ['*'] } });
const agent = agentRecord({ id: 'agent-1', workspace_id: 'ws_1' });
const numbers = [
  numberRecord({ id: 'n-own', phone_number: '+15550100001', workspace_id: 'ws_1', trunk_id: 'carrier' }),
  numberRecord({ id: 'n-default', phone_number: '+15550100002', workspace_id: 'ws_1' }),
  numberRecord({ id: 'n-foreign', phone_number: '+15550100003', workspace_id: 'ws_2', trunk_id: 'carrier' }),
  numberRecord({ id: 'n-suspended', phone_number: '+15550100004', workspace_id: 'ws_1', trunk_id: 'carrier', status: 'suspended' }),
  numberRecord({ id: 'n-personal', phone_number: '+15550100005', workspace_id: 'ws_1', telephony: 'personal', trunk_id: 'carrier', verified: false }),
  numberRecord({ id: 'n-verified', phone_number: '+15550100006', workspace_id: 'ws_1', telephony: 'personal', trunk_id: 'carrier', verified: true }),
  numberRecord({ id: 'n-bare', phone_number: '+15550100007', workspace_id: 'ws_1', trunk_id: 'bare' }),
  numberRecord({ id: 'n-srtp', phone_number: '+15550100008', workspace_id: 'ws_1', trunk_id: 'srtp' }),
  numberRecord({ id: 'n-otherws', phone_number: '+15550100009', workspace_id: 'ws_1', trunk_id: 'other-ws' }),
];

/** A do-not-call list per workspace id ('*' = the platform's), and the lookups made. */
class FakeDnc implements DoNotCallLookup {
  readonly asked: string[] = [];
  constructor(readonly lists: Record<string, string[]> = {}, readonly failing = false) {}
  async listing(workspaceId: string, e164: string) {
    this.asked.push(`${workspaceId}:${e164}`);
    if (this.failing) throw new Error('connection refused');
    if (this.lists[workspaceId]?.includes(e164)) return 'workspace' as const;
    return this.lists['*']?.includes(e164) ? ('platform' as const) : null;
  }
}

function deps(overrides: Partial<OutboundPipelineDeps> = {}, workspaceCountries: readonly string[] = ['*']): OutboundPipelineDeps {
  return {
    dnc: new FakeDnc(),
    store: new FakeRouteStore({ trunks: [carrier, worldwide, bare, srtpOnly, otherWs], numbers, agents: [agent] }),
    workspaces: { allowedCountries: async () => workspaceCountries },
    limiter: new FakeLimiter(),
    defaultCountry: undefined,
    defaultOutboundTrunkId: 'worldwide',
    ...overrides,
  };
}

const call = (dest: string, caller: string, extra: RequestInit = {}) =>
  request({
    sourceAddress: '10.0.0.5',
    requestUri: `sip:${dest}@edge.example.com`,
    from: `<sip:${caller}@agents.example>;tag=1`,
    headers: { 'X-Agent-Id': 'agent-1' },
    ...extra,
  });

describe('evaluateOutbound', () => {
  it.each<[string, RequestInit & { dest?: string; caller?: string }, OutboundStep, RejectReason]>([
    ['no X-Agent-Id', { headers: {} }, 'agent', 'source_not_agent'],
    ['unknown agent', { headers: { 'X-Agent-Id': 'agent-9' } }, 'agent', 'source_not_agent'],
    ['caller ID not a number', { caller: 'anonymous' }, 'caller_id', 'caller_id_not_owned'],
    ['caller ID not registered', { caller: '+15559999999' }, 'caller_id', 'caller_id_not_owned'],
    ["caller ID of another workspace", { caller: '+15550100003' }, 'caller_id', 'caller_id_not_owned'],
    ['suspended caller ID', { caller: '+15550100004' }, 'caller_id', 'caller_id_not_owned'],
    ['unverified personal number', { caller: '+15550100005' }, 'caller_id', 'caller_id_not_owned'],
    ['destination not a number', { dest: 'reception' }, 'destination', 'destination_invalid'],
    ['trunk without termination URIs', { caller: '+15550100007' }, 'trunk', 'no_outbound_trunk'],
    ["trunk of another workspace", { caller: '+15550100009' }, 'trunk', 'no_outbound_trunk'],
    ['country not on the trunk list', { dest: '+33142685300' }, 'country', 'country_not_allowed'],
    ['premium rate blocked', { dest: '+449098790000' }, 'country', 'premium_not_allowed'],
    ['SRTP required, RTP offered', { caller: '+15550100008' }, 'media', 'srtp_required'],
  ])('%s', async (_name, init, step, reason) => {
    const { dest = '+442071234567', caller = '+15550100001', ...rest } = init;
    const outcome = await evaluateOutbound(call(dest, caller, rest), deps());
    expect(outcome).toMatchObject({ kind: 'reject', step, reason });
  });

  it('accepts an owned caller ID to an allowed country and takes the caller ID number\'s trunk', async () => {
    const outcome = await evaluateOutbound(call('+44 20 7123 4567', '+15550100001'), deps());
    expect(outcome).toMatchObject({ kind: 'accept', plan: { trunk: { id: 'carrier' }, destination: { e164: '+442071234567', country: 'GB' }, callerNumber: { id: 'n-own' } } });
  });

  it('prefers P-Asserted-Identity over From as the caller ID', async () => {
    const outcome = await evaluateOutbound(call('+442071234567', '+15559999999', { headers: { 'X-Agent-Id': 'agent-1', 'P-Asserted-Identity': '<sip:+15550100006@agents>' } }), deps());
    expect(outcome).toMatchObject({ kind: 'accept', plan: { callerNumber: { id: 'n-verified' } } });
  });

  it('uses the default outbound trunk for a caller ID without one', async () => {
    const outcome = await evaluateOutbound(call('+33142685300', '+15550100002'), deps());
    expect(outcome).toMatchObject({ kind: 'accept', plan: { trunk: { id: 'worldwide' } } });
    const none = await evaluateOutbound(call('+33142685300', '+15550100002'), deps({ defaultOutboundTrunkId: undefined }));
    expect(none).toMatchObject({ kind: 'reject', step: 'trunk', reason: 'no_outbound_trunk' });
  });

  it("applies the workspace's country list on top of a worldwide trunk", async () => {
    const outcome = await evaluateOutbound(call('+33142685300', '+15550100002'), deps({}, ['GB']));
    expect(outcome).toMatchObject({ kind: 'reject', step: 'country', reason: 'country_not_allowed' });
  });

  it('accepts an SRTP offer on an SRTP-only trunk', async () => {
    const outcome = await evaluateOutbound(call('+442071234567', '+15550100008', { sdp: sdp(['m=audio 49170 RTP/SAVP 0', CRYPTO]) }), deps());
    expect(outcome.kind).toBe('accept');
  });

  it('leaves the carrier leg\'s encryption to the media anchor: an RTP agent may call through an SRTP-only trunk when anchored', async () => {
    const outcome = await evaluateOutbound(call('+442071234567', '+15550100008'), deps({ mediaAnchored: true }));
    expect(outcome.kind).toBe('accept');
  });

  it.each([
    ["the workspace's list", { ws_1: ['+442071234567'] }, 'workspace'],
    ["the platform's list", { '*': ['+442071234567'] }, 'platform'],
  ])('refuses a destination on %s with 403 destination_opted_out before any slot is taken', async (_what, lists, scope) => {
    const limiter = new FakeLimiter();
    const dnc = new FakeDnc(lists);
    // written with separators: the list holds E.164, the pipeline compares the normalised destination
    const outcome = await evaluateOutbound(call('+44 20 7123 4567', '+15550100001'), deps({ dnc, limiter }));
    expect(outcome).toMatchObject({ kind: 'reject', step: 'dnc', reason: 'destination_opted_out', trunk: { id: 'carrier' } });
    expect(outcome.kind === 'reject' && outcome.detail).toContain(scope);
    expect(dnc.asked).toEqual(['ws_1:+442071234567']);
    expect(limiter.admitted).toHaveLength(0);
  });

  it("does not apply another workspace's list", async () => {
    const outcome = await evaluateOutbound(call('+442071234567', '+15550100001'), deps({ dnc: new FakeDnc({ ws_2: ['+442071234567'] }) }));
    expect(outcome.kind).toBe('accept');
  });

  it('refuses with route_unavailable when the do-not-call lists cannot be read (never dials unchecked)', async () => {
    const outcome = await evaluateOutbound(call('+442071234567', '+15550100001'), deps({ dnc: new FakeDnc({}, true) }));
    expect(outcome).toMatchObject({ kind: 'reject', step: 'dnc', reason: 'route_unavailable' });
  });

  it('answers route_unavailable when the workspace settings cannot be read', async () => {
    const failing = deps({ workspaces: { allowedCountries: async () => Promise.reject(new Error('redis down')) } });
    expect(await evaluateOutbound(call('+442071234567', '+15550100001'), failing)).toMatchObject({ kind: 'reject', reason: 'route_unavailable' });
  });
});

describe('checkDestinationPolicy', () => {
  const dest = (n: string) => normaliseNumber(n)!;
  it.each([
    ['+442071234567', ['GB'], ['*'], true],
    ['+442071234567', ['*'], ['*'], true],
    ['+442071234567', ['US'], ['*'], false],
    ['+442071234567', ['*'], ['US'], false],
    ['+442071234567', [], ['*'], false],
    ['+12025550123', ['US', 'CA'], ['US'], true],
  ])('%s with trunk %j and workspace %j -> allowed %s', (number, trunkList, wsList, allowed) => {
    const t = trunkRecord({ outbound: { allowed_countries: trunkList, block_premium: true } });
    expect(checkDestinationPolicy(dest(number), t, wsList).kind === 'continue').toBe(allowed);
  });
});

describe('carrier legs', () => {
  it.each([
    ['sip:gw.carrier.example', 'udp', 'sip:+442071234567@gw.carrier.example'],
    ['sip:gw.carrier.example:5080', 'tcp', 'sip:+442071234567@gw.carrier.example:5080;transport=tcp'],
    ['sips:trunk@gw.carrier.example;transport=tls', 'tls', 'sips:+442071234567@gw.carrier.example;transport=tls'],
    ['sip:127.0.0.1:5090', 'udp', 'sip:+442071234567@127.0.0.1:5090'],
  ])('%s over %s -> %s', (uri, transport, expected) => {
    expect(carrierUri(uri, '+442071234567', transport)).toBe(expected);
  });

  it.each<[FailureKind, boolean, boolean]>([
    [{ kind: 'status', status: 503 }, false, true],
    [{ kind: 'status', status: 500 }, false, true],
    [{ kind: 'status', status: 408 }, false, true],
    [{ kind: 'unreachable' }, false, true],
    [{ kind: 'status', status: 486 }, false, false],
    [{ kind: 'status', status: 603 }, false, false],
    [{ kind: 'status', status: 404 }, false, false],
    [{ kind: 'status', status: 503 }, true, false],
    [{ kind: 'timeout' }, false, false],
    [{ kind: 'cancelled' }, false, false],
  ])('%j (early media %s) fails over: %s', (failure, earlyMedia, expected) => {
    expect(carrierFailsOver(failure, { earlyMedia })).toBe(expected);
  });
});
