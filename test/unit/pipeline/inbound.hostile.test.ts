import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse } from '../../../src/domain/digest.js';
import { AuthFailureGuard } from '../../../src/limits/authGuard.js';
import { evaluateInbound, type InboundPipelineDeps } from '../../../src/pipeline/inbound.js';
import { evaluateOutbound, type OutboundPipelineDeps } from '../../../src/pipeline/outbound.js';
import { checkCooloff, checkTrunkAuth } from '../../../src/pipeline/steps/auth.js';
import { protocolPolicy } from '../../../src/pipeline/steps/protocol.js';
import { scannerPatterns } from '../../../src/pipeline/steps/scanner.js';
import type { RejectReason } from '../../../src/pipeline/reasons.js';
import { FakeLimiter, FakeRouteStore, request, trunkRecord, type RequestInit } from '../support/fakes.js';

const RURI = 'sip:+15550001001@edge.example.com';
const carrier = trunkRecord({ id: 'carrier', inbound: { allowed_cidrs: ['192.0.2.0/24'] } });
const locked = trunkRecord({ id: 'locked', inbound: { allowed_cidrs: ['203.0.113.0/24'], auth_username: 'carrier-a', auth_password: 'correct horse' } });
const digest = new DigestAuthenticator('sip-edge', 'nonce-secret-0123456789');
const answer = (password: string): string => digestResponse(digest.challenge(), 'INVITE', RURI, 'carrier-a', password);

function guard(): AuthFailureGuard {
  return new AuthFailureGuard({ perSource: 2, perTrunk: 0, windowMs: 60_000, cooloffMs: 60_000 });
}

function deps(overrides: Partial<InboundPipelineDeps> = {}): InboundPipelineDeps {
  return {
    store: new FakeRouteStore({ trunks: [carrier, locked] }),
    digest,
    silentDropUnknownSources: false,
    scannerPatterns: scannerPatterns(['friendly-scanner']),
    defaultCountry: undefined,
    limiter: new FakeLimiter(),
    protocol: protocolPolicy([]),
    maxMessageBytes: 10_000,
    ...overrides,
  };
}

describe('inbound pipeline: protocol step and failed-auth cool-off', () => {
  it.each<[string, RequestInit, string, RejectReason]>([
    ['Max-Forwards 0', { headers: { 'Max-Forwards': '0' } }, 'protocol', 'too_many_hops'],
    ['an unknown Require', { headers: { Require: 'precondition' } }, 'protocol', 'bad_extension'],
    ['a mailto: Request-URI', { requestUri: 'mailto:x@example.com' }, 'protocol', 'unsupported_uri_scheme'],
    ['Max-Forwards 0 on a trunk with credentials, none given: challenged first (RFC 3261 8.2)', { sourceAddress: '203.0.113.5', headers: { 'Max-Forwards': '0' } }, 'auth', 'auth_required'],
    ['Max-Forwards 0 from an unknown source: refused as unknown first', { sourceAddress: '198.51.100.1', headers: { 'Max-Forwards': '0' } }, 'source', 'unknown_source'],
  ])('%s -> step %s, %s', async (_name, init, step, reason) => {
    expect(await evaluateInbound(request(init), deps())).toMatchObject({ step, reason });
  });

  it('counts wrong digest answers; at the limit the source is dropped, before anything else is read', async () => {
    const g = guard();
    const d = deps({ authGuard: g });
    const wrong = request({ sourceAddress: '203.0.113.5', requestUri: RURI, headers: { 'Proxy-Authorization': answer('wrong') } });
    expect(await evaluateInbound(wrong, d)).toMatchObject({ kind: 'reject', reason: 'auth_failed' });
    expect(await evaluateInbound(wrong, d)).toMatchObject({ kind: 'reject', reason: 'auth_failed' });
    const right = request({ sourceAddress: '203.0.113.5', requestUri: RURI, headers: { 'Proxy-Authorization': answer('correct horse'), 'User-Agent': 'ok' } });
    expect(await evaluateInbound(right, d)).toMatchObject({ kind: 'drop', reason: 'auth_blocked', step: 'auth' });
    // another address of the trunk is not held back
    expect(await evaluateInbound({ ...right, sourceAddress: '203.0.113.6' }, d)).not.toMatchObject({ reason: 'auth_blocked' });
  });

  it('a dry run counts no failure, but reports a running cool-off', async () => {
    const g = guard();
    const wrong = request({ sourceAddress: '203.0.113.5', requestUri: RURI, headers: { 'Proxy-Authorization': answer('wrong') } });
    for (let i = 0; i < 5; i++) await evaluateInbound(wrong, deps({ authGuard: g }), { dryRun: true });
    expect(g.blockedUntil('203.0.113.5')).toBeNull();
    g.recordFailure('203.0.113.5', 'locked');
    g.recordFailure('203.0.113.5', 'locked');
    expect(await evaluateInbound(wrong, deps({ authGuard: g }), { dryRun: true, skipAuth: true })).toMatchObject({ reason: 'auth_blocked' });
  });

  it('checkCooloff without a guard, and checkTrunkAuth without one, change nothing', () => {
    expect(checkCooloff(request(), undefined)).toEqual({ kind: 'continue', value: undefined });
    expect(checkTrunkAuth(request({ headers: { 'Proxy-Authorization': answer('wrong') } }), locked, digest)).toMatchObject({ reason: 'auth_failed' });
  });
});

describe('outbound pipeline: protocol step first', () => {
  const outbound: OutboundPipelineDeps = {
    store: new FakeRouteStore(),
    workspaces: { allowedCountries: async () => ['*'] } as unknown as OutboundPipelineDeps['workspaces'],
    limiter: new FakeLimiter(),
    defaultCountry: undefined,
    defaultOutboundTrunkId: undefined,
    dnc: { listing: async () => null } as unknown as OutboundPipelineDeps['dnc'],
  };
  it.each<[RequestInit, RejectReason]>([
    [{ headers: { 'Max-Forwards': '0', 'X-Agent-Id': 'a' } }, 'too_many_hops'],
    [{ headers: { Require: 'foo', 'X-Agent-Id': 'a' } }, 'bad_extension'],
  ])('%o -> %s at step protocol', async (init, reason) => {
    expect(await evaluateOutbound(request(init), outbound)).toMatchObject({ step: 'protocol', reason });
  });
});
