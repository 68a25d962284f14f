import { describe, expect, it } from 'vitest';
import { CidrMatcher } from '../../../src/domain/cidr.js';
import { AuthFailureGuard } from '../../../src/limits/authGuard.js';
import { SourceFloodGuard } from '../../../src/limits/floodGuard.js';
import { evaluateRequest, evaluateUnparseable, type RequestPipelineDeps } from '../../../src/pipeline/requests.js';
import type { RejectReason } from '../../../src/pipeline/reasons.js';
import { scannerPatterns } from '../../../src/pipeline/steps/scanner.js';
import { FakeRouteStore, request, trunkRecord, type RequestInit } from '../support/fakes.js';

const carrier = trunkRecord({ id: 'carrier', inbound: { allowed_cidrs: ['192.0.2.0/24'] } });
const agents = new CidrMatcher<true>();
agents.add('10.0.0.0/24', true);

function deps(overrides: Partial<RequestPipelineDeps> = {}): RequestPipelineDeps {
  return {
    store: new FakeRouteStore({ trunks: [carrier] }),
    silentDropUnknownSources: false,
    scannerPatterns: scannerPatterns(['friendly-scanner', 'sipvicious']),
    agentSources: agents,
    ...overrides,
  };
}

const blocked = (): AuthFailureGuard => {
  const guard = new AuthFailureGuard({ perSource: 1, perTrunk: 0, windowMs: 60_000, cooloffMs: 60_000 });
  guard.recordFailure('192.0.2.66', 'carrier');
  return guard;
};

describe('evaluateRequest (every method but INVITE)', () => {
  it.each<[string, RequestInit, Partial<RequestPipelineDeps>, 'accept' | 'reject' | 'drop', RejectReason | null, string | null]>([
    ['OPTIONS from a trunk', { method: 'OPTIONS' }, {}, 'accept', null, null],
    ['OPTIONS from the agent infrastructure', { method: 'OPTIONS', sourceAddress: '10.0.0.7' }, {}, 'accept', null, null],
    ['OPTIONS with Max-Forwards 0: answered by the edge itself', { method: 'OPTIONS', headers: { 'Max-Forwards': '0' } }, {}, 'accept', null, null],
    ['OPTIONS requiring an extension', { method: 'OPTIONS', headers: { Require: 'foo' } }, {}, 'reject', 'bad_extension', 'protocol'],
    ['OPTIONS to a mailto: URI', { method: 'OPTIONS', requestUri: 'mailto:x@example.com' }, {}, 'reject', 'unsupported_uri_scheme', 'protocol'],
    ['REGISTER from a trunk', { method: 'REGISTER' }, {}, 'reject', 'method_not_allowed', 'method'],
    ['SUBSCRIBE from the agent infrastructure', { method: 'SUBSCRIBE', sourceAddress: '10.0.0.7' }, {}, 'reject', 'method_not_allowed', 'method'],
    ['OPTIONS with a scanner User-Agent, from a trunk', { method: 'OPTIONS', headers: { 'User-Agent': 'friendly-scanner' } }, {}, 'drop', 'scanner', 'scanner'],
    ['REGISTER with a scanner User-Agent', { method: 'REGISTER', headers: { 'User-Agent': 'SIPVicious 0.3' } }, {}, 'drop', 'scanner', 'scanner'],
    ['REGISTER from an unknown source', { method: 'REGISTER', sourceAddress: '198.51.100.9' }, {}, 'reject', 'unknown_source', 'source'],
    ['OPTIONS from an unknown source, silent drop', { method: 'OPTIONS', sourceAddress: '198.51.100.9' }, { silentDropUnknownSources: true }, 'drop', 'unknown_source', 'source'],
    ['OPTIONS from a trunk address in its cool-off', { method: 'OPTIONS', sourceAddress: '192.0.2.66' }, { authGuard: blocked() }, 'drop', 'auth_blocked', 'auth'],
  ])('%s', (_name, init, overrides, kind, reason, step) => {
    const outcome = evaluateRequest(request(init), deps(overrides));
    expect(outcome.kind).toBe(kind);
    if (outcome.kind !== 'accept') expect(outcome).toMatchObject({ reason, step });
  });

  it('the flood guard counts every method of an unknown source together', () => {
    const flood = new SourceFloodGuard(2, 10, () => 0);
    const d = deps({ flood });
    const kinds = ['OPTIONS', 'REGISTER', 'OPTIONS', 'MESSAGE'].map((method) => {
      const o = evaluateRequest(request({ method, sourceAddress: '198.51.100.9' }), d);
      return o.kind === 'accept' ? 'accept' : `${o.kind}:${o.reason}`;
    });
    expect(kinds).toEqual(['reject:unknown_source', 'reject:unknown_source', 'drop:source_flood', 'drop:source_flood']);
  });

  it('INVITEs are not for this pipeline', () => {
    expect(() => evaluateRequest(request({ method: 'INVITE' }), deps())).toThrow(/INVITE/);
  });
});

describe('evaluateUnparseable', () => {
  it.each<[string, string, Partial<RequestPipelineDeps>, 'reject' | 'drop', RejectReason]>([
    ['from a trunk', '192.0.2.5', {}, 'reject', 'message_unparseable'],
    ['from the agent infrastructure', '10.0.0.7', {}, 'reject', 'message_unparseable'],
    ['from an unknown source', '198.51.100.9', {}, 'reject', 'unknown_source'],
    ['from an unknown source, silent drop', '198.51.100.9', { silentDropUnknownSources: true }, 'drop', 'unknown_source'],
    ['from a source in its cool-off', '192.0.2.66', { authGuard: blocked() }, 'drop', 'auth_blocked'],
  ])('%s -> %s %s', (_name, source, overrides, kind, reason) => {
    expect(evaluateUnparseable(source, deps(overrides))).toMatchObject({ kind, reason });
  });
});
