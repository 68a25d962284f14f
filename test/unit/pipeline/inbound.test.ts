import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse } from '../../../src/domain/digest.js';
import { evaluateInbound, type InboundPipelineDeps } from '../../../src/pipeline/inbound.js';
import { scannerPatterns } from '../../../src/pipeline/steps/scanner.js';
import type { InboundStep } from '../../../src/pipeline/types.js';
import type { RejectReason } from '../../../src/pipeline/reasons.js';
import { agentRecord, CRYPTO, FakeLimiter, FakeRouteStore, numberRecord, request, sdp, trunkRecord, type RequestInit } from '../support/fakes.js';

const carrier = trunkRecord({ id: 'carrier', inbound: { allowed_cidrs: ['192.0.2.0/24', '2001:db8::/32'] } });
const secure = trunkRecord({
  id: 'secure',
  inbound: { allowed_cidrs: ['198.51.100.0/24'], transports: ['tls'], media_encryption: 'required' },
});
const locked = trunkRecord({
  id: 'locked',
  inbound: { allowed_cidrs: ['203.0.113.0/24'], auth_username: 'carrier-a', auth_password: 'correct horse' },
});
const primary = agentRecord({ id: 'agent-1', sip_uri: 'sip:agent-1@10.0.0.5:5090' });
const fallback = agentRecord({ id: 'agent-2', sip_uri: 'sip:agent-2@10.0.0.6:5090' });
const number = numberRecord({
  id: 'num-1',
  phone_number: '+15550001001',
  inbound_routing: { agent_id: 'agent-1', fallback: { agent_id: 'agent-2' }, voicemail_message: 'We will call you back' },
});
const unrouted = numberRecord({ phone_number: '+15550001002', inbound_routing: null });

function deps(overrides: Partial<InboundPipelineDeps> = {}): InboundPipelineDeps {
  return {
    store: new FakeRouteStore({ trunks: [carrier, secure, locked], numbers: [number, unrouted], agents: [primary, fallback] }),
    digest: new DigestAuthenticator('sip-edge', 'nonce-secret-0123456789'),
    silentDropUnknownSources: false,
    scannerPatterns: scannerPatterns(['friendly-scanner']),
    defaultCountry: undefined,
    limiter: new FakeLimiter(),
    maxMessageBytes: 10_000,
    ...overrides,
  };
}

const SRTP = sdp(['m=audio 49170 RTP/SAVP 0', CRYPTO]);

describe('evaluateInbound', () => {
  it.each<[string, RequestInit, Partial<InboundPipelineDeps>, InboundStep, 'reject' | 'drop', RejectReason, string | undefined]>([
    ['scanner User-Agent', { headers: { 'User-Agent': 'friendly-scanner' } }, {}, 'scanner', 'drop', 'scanner', undefined],
    ['unknown source', { sourceAddress: '10.9.9.9' }, {}, 'source', 'reject', 'unknown_source', undefined],
    ['unknown source, silent drop', { sourceAddress: '10.9.9.9' }, { silentDropUnknownSources: true }, 'source', 'drop', 'unknown_source', undefined],
    ['trunk with credentials, none given', { sourceAddress: '203.0.113.5' }, {}, 'auth', 'reject', 'auth_required', 'locked'],
    ['TLS-only trunk over udp', { sourceAddress: '198.51.100.5', transport: 'udp', sdp: SRTP }, {}, 'transport', 'reject', 'transport_not_allowed', 'secure'],
    ['sips: over tcp', { requestUri: 'sips:+15550001001@edge.example.com', transport: 'tcp' }, {}, 'transport', 'reject', 'sips_requires_tls', 'carrier'],
    ['SRTP-required trunk, RTP offer', { sourceAddress: '198.51.100.5', transport: 'tls' }, {}, 'media', 'reject', 'srtp_required', 'secure'],
    ['unreadable SDP', { sdp: 'not sdp' }, {}, 'media', 'reject', 'sdp_invalid', 'carrier'],
    ['no number in Request-URI or To', { requestUri: 'sip:edge.example.com', to: '<sip:edge.example.com>' }, {}, 'did', 'reject', 'did_invalid', 'carrier'],
    ['unknown number', { requestUri: 'sip:+15559999999@edge.example.com' }, {}, 'route', 'reject', 'number_not_found', 'carrier'],
    ['outbound-only number', { requestUri: 'sip:+15550001002@edge.example.com' }, {}, 'route', 'reject', 'number_outbound_only', 'carrier'],
  ])('%s -> step %s', async (_name, init, depOverrides, step, kind, reason, trunkId) => {
    const outcome = await evaluateInbound(request(init), deps(depOverrides));
    expect(outcome).toMatchObject({ kind, step, reason });
    if (outcome.kind === 'accept') return;
    expect('trunk' in outcome ? outcome.trunk?.id : undefined).toBe(trunkId);
  });

  it('store unavailable -> route_unavailable at the route step', async () => {
    const d = deps();
    (d.store as FakeRouteStore).failing.add('number');
    expect(await evaluateInbound(request(), d)).toMatchObject({ kind: 'reject', step: 'route', reason: 'route_unavailable' });
  });

  it('accepts a routed call and plans primary, fallback and voicemail', async () => {
    const outcome = await evaluateInbound(
      request({
        sourceAddress: '::ffff:192.0.2.44',
        requestUri: 'tel:+1-555-000-1001',
        from: '"Caller" <sip:1-555-000-2002@carrier.example.com>;tag=9',
      }),
      deps(),
    );
    expect(outcome.kind).toBe('accept');
    if (outcome.kind !== 'accept') return;
    const { plan } = outcome;
    expect(plan.trunk.id).toBe('carrier');
    expect(plan.did).toEqual({ raw: 'tel:+1-555-000-1001', e164: '+15550001001', read: true });
    expect(plan.caller).toEqual({ raw: '1-555-000-2002', e164: '+15550002002' });
    expect(plan.number.id).toBe('num-1');
    expect(plan.targets.map((t) => [t.role, t.agent.id, t.agent.sip_uri])).toEqual([
      ['primary', 'agent-1', 'sip:agent-1@10.0.0.5:5090'],
      ['fallback', 'agent-2', 'sip:agent-2@10.0.0.6:5090'],
    ]);
    expect(plan.voicemailMessage).toBe('We will call you back');
  });

  it('accepts TLS with an SRTP offer on the TLS-only, SRTP-required trunk', async () => {
    const outcome = await evaluateInbound(request({ sourceAddress: '198.51.100.5', transport: 'tls', sdp: SRTP }), deps());
    expect(outcome).toMatchObject({ kind: 'accept', plan: { trunk: { id: 'secure' }, did: { e164: '+15550001001' } } });
  });

  it('takes the SDP part of a multipart body (SDP beside ISUP) for the SRTP check and the plan', async () => {
    const body = ['--b1', 'Content-Type: application/isup;version=itu-t92+', '', '\x01\x00\x49', '--b1', 'Content-Type: application/sdp', '', SRTP, '--b1--', ''].join('\r\n');
    const req = request({ sourceAddress: '198.51.100.5', transport: 'tls', body: { contentType: 'multipart/mixed; boundary="b1"', text: body } });
    const outcome = await evaluateInbound(req, deps());
    expect(outcome).toMatchObject({ kind: 'accept', plan: { trunk: { id: 'secure' }, offerSdp: SRTP } });
  });

  it('refuses a multipart body without SDP at the media step, before any lookup', async () => {
    const d = deps();
    const body = ['--b1', 'Content-Type: application/isup', '', '\x01\x00\x49', '--b1--', ''].join('\r\n');
    const outcome = await evaluateInbound(request({ body: { contentType: 'multipart/mixed;boundary=b1', text: body } }), d);
    expect(outcome).toMatchObject({ kind: 'reject', step: 'media', reason: 'sdp_part_missing', trunk: { id: 'carrier' } });
    expect((d.store as FakeRouteStore).lookups).toEqual([]);
  });

  it('skipAuth (route test) passes a trunk with credentials without a challenge', async () => {
    const req = request({ sourceAddress: '203.0.113.5' });
    expect(await evaluateInbound(req, deps(), { skipAuth: true })).toMatchObject({ kind: 'accept', plan: { trunk: { id: 'locked' } } });
    expect(await evaluateInbound(req, deps(), { skipAuth: false })).toMatchObject({ kind: 'reject', step: 'auth' });
  });

  it('accepts a trunk with credentials once the challenge is answered', async () => {
    const d = deps();
    const ruri = 'sip:+15550001001@edge.example.com';
    const header = digestResponse(d.digest.challenge(), 'INVITE', ruri, 'carrier-a', 'correct horse');
    const outcome = await evaluateInbound(request({ sourceAddress: '203.0.113.5', requestUri: ruri, headers: { 'Proxy-Authorization': header } }), d);
    expect(outcome).toMatchObject({ kind: 'accept', plan: { trunk: { id: 'locked' } } });
  });

  it('uses the default country for national DIDs', async () => {
    const gbNumber = numberRecord({ phone_number: '+442071234567', inbound_routing: { agent_id: 'agent-1' } });
    const store = new FakeRouteStore({ trunks: [carrier], numbers: [gbNumber], agents: [primary] });
    const outcome = await evaluateInbound(request({ requestUri: 'sip:02071234567@edge.example.com' }), deps({ store, defaultCountry: 'GB' }));
    expect(outcome).toMatchObject({ kind: 'accept', plan: { did: { raw: '02071234567', e164: '+442071234567' }, targets: [{ role: 'primary' }] } });
  });

  describe('a DID in E.164 form is looked up as sent, read only when not found', () => {
    const gbNumber = numberRecord({ phone_number: '+442071234567', inbound_routing: { agent_id: 'agent-1' } });
    const store = () => new FakeRouteStore({ trunks: [carrier], numbers: [number, gbNumber], agents: [primary] });

    it('found as sent: one lookup', async () => {
      const d = deps({ store: store() });
      const outcome = await evaluateInbound(request({ requestUri: 'sip:+15550001001@edge.example.com' }), d);
      expect(outcome).toMatchObject({ kind: 'accept', plan: { did: { e164: '+15550001001' } } });
      expect((d.store as FakeRouteStore).lookups.filter((l) => l.startsWith('number:'))).toEqual(['number:+15550001001']);
    });

    it('written with a national prefix: looked up again in canonical form and routed', async () => {
      const d = deps({ store: store() });
      const outcome = await evaluateInbound(request({ requestUri: 'sip:+4402071234567@edge.example.com' }), d);
      expect(outcome).toMatchObject({ kind: 'accept', plan: { did: { raw: '+4402071234567', e164: '+442071234567', read: true } } });
      expect((d.store as FakeRouteStore).lookups.filter((l) => l.startsWith('number:'))).toEqual(['number:+4402071234567', 'number:+442071234567']);
    });

    it('an impossible number is still did_invalid at the did step', async () => {
      const outcome = await evaluateInbound(request({ requestUri: 'sip:+1617256000@edge.example.com' }), deps({ store: store() }));
      expect(outcome).toMatchObject({ kind: 'reject', step: 'did', reason: 'did_invalid' });
    });

    it('a possible number that is not registered stays number_not_found', async () => {
      const outcome = await evaluateInbound(request({ requestUri: 'sip:+16172560000@edge.example.com' }), deps({ store: store() }));
      expect(outcome).toMatchObject({ kind: 'reject', step: 'route', reason: 'number_not_found' });
    });

    it('Redis unavailable and an impossible number: did_invalid, as before the lookup', async () => {
      const s = store();
      s.failing.add('number');
      const outcome = await evaluateInbound(request({ requestUri: 'sip:+1617256000@edge.example.com' }), deps({ store: s }));
      expect(outcome).toMatchObject({ kind: 'reject', step: 'did', reason: 'did_invalid' });
    });
  });

  it('stops at the first refusal: a refused source never reaches the store', async () => {
    const d = deps();
    await evaluateInbound(request({ sourceAddress: '10.9.9.9' }), d);
    expect((d.store as FakeRouteStore).lookups).toEqual([]);
  });
});

describe('evaluateInbound: limits step', () => {
  const invite = { sourceAddress: '192.0.2.10', requestUri: 'sip:+15550001001@edge.example.com' };

  it.each<[RejectReason]>([['limit_trunk_calls'], ['limit_trunk_cps'], ['limit_workspace_calls'], ['limit_workspace_cps']])(
    'a refusal by %s ends the pipeline at step "limits"',
    async (reason) => {
      const limiter = new FakeLimiter();
      limiter.refuse = reason;
      const outcome = await evaluateInbound(request(invite), deps({ limiter }));
      expect(outcome).toMatchObject({ kind: 'reject', step: 'limits', reason });
    },
  );

  it('takes a call slot for an accepted call and hands its lease over', async () => {
    const limiter = new FakeLimiter();
    const outcome = await evaluateInbound(request({ ...invite, callId: 'call-limits-1' }), deps({ limiter }));
    expect(outcome.kind).toBe('accept');
    expect(limiter.admitted).toEqual(['call-limits-1']);
    if (outcome.kind === 'accept') outcome.lease?.release();
    expect(limiter.released).toEqual(['call-limits-1']);
  });

  describe('admission along the route lookup (one Redis round trip on a cache miss)', () => {
    /** A store whose every lookup is a miss read through `read`, and a limiter that decides in that read. */
    class MissingStore extends FakeRouteStore {
      override async number(e164: string, read?: (key: string) => Promise<string | null>) {
        if (read) await read(`num:${e164}`);
        return super.number(e164);
      }
    }
    class AlongLimiter extends FakeLimiter {
      admitCalls = 0;
      override async admit(trunk: Parameters<FakeLimiter['admit']>[0], ws: string, callId: string) {
        this.admitCalls++;
        return super.admit(trunk, ws, callId);
      }
      override alongLookup(_trunk: Parameters<FakeLimiter['admit']>[0], callId: string) {
        let decided: ReturnType<FakeLimiter['decide']> | null = null;
        return {
          read: async () => {
            decided = this.decide(callId);
            return null;
          },
          admission: () => decided,
        };
      }
    }
    const storeOf = () => new MissingStore({ trunks: [carrier], numbers: [number, unrouted], agents: [primary, fallback] });

    it('an accepted call keeps the slot taken with the lookup and is not admitted twice', async () => {
      const limiter = new AlongLimiter();
      const outcome = await evaluateInbound(request({ ...invite, callId: 'along-1' }), deps({ store: storeOf(), limiter }));
      expect(outcome.kind).toBe('accept');
      expect(limiter.admitted).toEqual(['along-1']);
      expect(limiter.admitCalls).toBe(0);
      expect(limiter.released).toEqual([]);
    });

    it('a refusal made with the lookup ends the pipeline at step "limits"', async () => {
      const limiter = new AlongLimiter();
      limiter.refuse = 'limit_workspace_cps';
      const outcome = await evaluateInbound(request(invite), deps({ store: storeOf(), limiter }));
      expect(outcome).toMatchObject({ kind: 'reject', step: 'limits', reason: 'limit_workspace_cps' });
      expect(limiter.admitCalls).toBe(0);
    });

    it('a number refused by the route step gives back the slot taken with the lookup', async () => {
      const limiter = new AlongLimiter();
      const outcome = await evaluateInbound(request({ ...invite, requestUri: 'sip:+15550001002@edge.example.com', callId: 'along-2' }), deps({ store: storeOf(), limiter }));
      expect(outcome).toMatchObject({ kind: 'reject', step: 'route', reason: 'number_outbound_only' });
      expect(limiter.admitted).toEqual(['along-2']);
      expect(limiter.released).toEqual(['along-2']);
    });

    it('a dry run reads without admitting', async () => {
      const limiter = new AlongLimiter();
      const outcome = await evaluateInbound(request(invite), deps({ store: storeOf(), limiter }), { dryRun: true });
      expect(outcome).toMatchObject({ kind: 'accept', lease: null });
      expect(limiter.admitted).toEqual([]);
    });
  });

  it('a dry run decides without taking a slot', async () => {
    const limiter = new FakeLimiter();
    limiter.refuse = 'limit_trunk_calls';
    const outcome = await evaluateInbound(request(invite), deps({ limiter }), { dryRun: true });
    expect(outcome).toMatchObject({ kind: 'accept', lease: null });
    expect(limiter.admitted).toEqual([]);
  });
});
