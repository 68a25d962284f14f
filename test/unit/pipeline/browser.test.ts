import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { browserEntryTrunk, onBrowserEntry } from '../../../src/browser/entry.js';
import { issueToken, type TestCallTarget } from '../../../src/browser/token.js';
import type { Consumption, TestCallTokenStore } from '../../../src/browser/tokenStore.js';
import { evaluateBrowser, type BrowserPipelineDeps } from '../../../src/pipeline/browser.js';
import { agentRecord, FakeLimiter, FakeRouteStore, FINGERPRINT, numberRecord, request, sdp, CRYPTO } from '../support/fakes.js';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const WEBRTC = sdp(['m=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef01234567', FINGERPRINT, 'a=setup:actpass', 'a=rtcp-mux']);

/** Single use in memory, as RedisTestCallTokenStore does it in Redis. */
class MemoryTokens implements TestCallTokenStore {
  readonly seen = new Map<string, number>();
  failing = false;
  async consume(jti: string, expiresAtMs: number): Promise<Consumption> {
    if (this.failing) throw new Error('connection refused');
    if (this.seen.has(jti)) return 'used';
    this.seen.set(jti, expiresAtMs);
    return 'fresh';
  }
}

const config = parseConfig({ admin: { token: 'x'.repeat(16) }, media: { anchor: 'always', rtpengine: ['127.0.0.1:22222'] }, test_calls: { secret: SECRET, entry_ports: [8443], ws_url: 'wss://edge.example.com:8443', max_concurrent_calls: 5 } });

function world() {
  const agent = agentRecord({ id: 'agt_1', workspace_id: 'ws_1' });
  const fallback = agentRecord({ id: 'agt_2', workspace_id: 'ws_1' });
  const stranger = agentRecord({ id: 'agt_9', workspace_id: 'ws_9' });
  const number = numberRecord({ id: 'num_1', phone_number: '+15550001001', workspace_id: 'ws_1', telephony: 'byoc', trunk_id: 'trk_carrier', inbound_routing: { agent_id: 'agt_1', fallback: { agent_id: 'agt_2' }, voicemail_message: 'Leave a message' } });
  const store = new FakeRouteStore({ numbers: [number], agents: [agent, fallback, stranger] });
  const tokens = new MemoryTokens();
  const limiter = new FakeLimiter();
  const deps: BrowserPipelineDeps = {
    tokens: { secret: SECRET, maxTtlS: 600, store: tokens },
    store,
    limiter,
    entry: browserEntryTrunk(config.test_calls),
    scannerPatterns: [/friendly-scanner/i],
    maxMessageBytes: 10_000,
    now: () => NOW,
  };
  return { deps, store, tokens, limiter, number };
}

const token = (target: TestCallTarget, o: { workspaceId?: string; nowMs?: number; ttlS?: number } = {}) =>
  issueToken(SECRET, { workspaceId: o.workspaceId ?? 'ws_1', target, ttlS: o.ttlS ?? 300, nowMs: o.nowMs ?? NOW }).token;
const NUMBER: TestCallTarget = { kind: 'number', id: 'num_1', e164: '+15550001001' };
const invite = (tok: string | undefined, init: Parameters<typeof request>[0] = {}) =>
  request({ transport: 'tcp', sourceAddress: '203.0.113.50', sdp: WEBRTC, ...init, headers: { ...(tok === undefined ? {} : { 'X-Test-Call-Token': tok }), ...init.headers } });

describe('evaluateBrowser (the browser entry pipeline)', () => {
  it('accepts a number token: the number\'s inbound routing, fallback and voicemail included, under the browser entry\'s limits', async () => {
    const w = world();
    const outcome = await evaluateBrowser(invite(token(NUMBER)), w.deps);
    expect(outcome.kind).toBe('accept');
    if (outcome.kind !== 'accept') return;
    expect(outcome.plan.entry.id).toBe('@browser');
    expect(outcome.plan.entry.limits).toEqual({ max_concurrent_calls: 5, max_cps: null });
    expect(outcome.plan.claims.workspaceId).toBe('ws_1');
    expect(outcome.plan.number?.id).toBe('num_1');
    expect(outcome.plan.targets.map((t) => [t.role, t.agent.id])).toEqual([['primary', 'agt_1'], ['fallback', 'agt_2']]);
    expect(outcome.plan.voicemailMessage).toBe('Leave a message');
    expect(outcome.plan.offerSdp).toBe(WEBRTC);
    expect(w.limiter.admitted).toEqual(['call-1@carrier']);
  });

  it('routes by the token, never by the Request-URI', async () => {
    const w = world();
    const outcome = await evaluateBrowser(invite(token({ kind: 'agent', id: 'agt_1' }), { requestUri: 'sip:+15550001001@edge', to: '<sip:+15550001001@edge>' }), w.deps);
    expect(outcome.kind === 'accept' && [outcome.plan.number, outcome.plan.targets.map((t) => t.agent.id)]).toEqual([null, ['agt_1']]);
  });

  it.each([
    ['no token', undefined, 'test_call_token_invalid'],
    ['a token of another edge', issueToken('other-secret-0123456789abcdef0123456', { workspaceId: 'ws_1', target: NUMBER, ttlS: 60, nowMs: NOW }).token, 'test_call_token_invalid'],
    ['an expired token', token(NUMBER, { nowMs: NOW - 301_000 }), 'test_call_token_expired'],
    ['garbage', 'Bearer abc', 'test_call_token_invalid'],
  ])('refuses %s (403 %s) before any lookup, spending nothing', async (_what, tok, reason) => {
    const w = world();
    const outcome = await evaluateBrowser(invite(tok), w.deps);
    expect(outcome).toMatchObject({ kind: 'reject', reason, step: 'token' });
    expect(outcome.kind !== 'accept' && outcome.trunk.id).toBe('@browser');
    expect(w.store.lookups).toEqual([]);
    expect(w.tokens.seen.size).toBe(0);
    expect(w.limiter.admitted).toEqual([]);
  });

  it('takes a token once: the second INVITE with it is refused as used, whatever became of the first', async () => {
    const w = world();
    const tok = token(NUMBER);
    // the first INVITE is refused later on (its limit): the token is spent all the same
    w.limiter.refuse = 'limit_workspace_calls';
    expect(await evaluateBrowser(invite(tok, { callId: 'c1' }), w.deps)).toMatchObject({ kind: 'reject', reason: 'limit_workspace_calls', step: 'limits' });
    w.limiter.refuse = null;
    expect(await evaluateBrowser(invite(tok, { callId: 'c2' }), w.deps)).toMatchObject({ kind: 'reject', reason: 'test_call_token_used', step: 'token' });
    // another token for the same target is another token
    expect((await evaluateBrowser(invite(token(NUMBER), { callId: 'c3' }), w.deps)).kind).toBe('accept');
  });

  it('refuses the call when single use cannot be checked (Redis down): 503, never let through', async () => {
    const w = world();
    w.tokens.failing = true;
    expect(await evaluateBrowser(invite(token(NUMBER)), w.deps)).toMatchObject({ kind: 'reject', reason: 'route_unavailable', step: 'token' });
  });

  it('holds the token to its workspace: a target that is not (or no longer) in it is refused', async () => {
    const w = world();
    expect(await evaluateBrowser(invite(token(NUMBER, { workspaceId: 'ws_9' })), w.deps)).toMatchObject({ kind: 'reject', reason: 'number_wrong_workspace', step: 'route' });
    expect(await evaluateBrowser(invite(token({ kind: 'agent', id: 'agt_9' })), w.deps)).toMatchObject({ kind: 'reject', reason: 'agent_not_found', step: 'route' });
    // a number re-registered under another id is another number
    expect(await evaluateBrowser(invite(token({ kind: 'number', id: 'num_old', e164: '+15550001001' })), w.deps)).toMatchObject({ kind: 'reject', reason: 'number_not_found', step: 'route' });
  });

  it.each([
    ['suspended', 'number_suspended'],
    ['provisioning', 'number_provisioning'],
    ['released', 'number_released'],
  ] as const)('refuses a %s number like a carrier\'s call to it (%s)', async (status, reason) => {
    const w = world();
    w.store.numbers.set('+15550001001', { ...w.number, status });
    expect(await evaluateBrowser(invite(token(NUMBER)), w.deps)).toMatchObject({ kind: 'reject', reason, step: 'route' });
  });

  it.each([
    ['plain RTP', sdp(['m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']), 'media_encryption_mismatch'],
    ['SDES and RTP side by side', sdp(['m=audio 4000 RTP/SAVP 0', CRYPTO, 'm=audio 4002 RTP/AVP 0']), 'media_encryption_mismatch'],
    ['no offer', undefined, 'media_encryption_mismatch'],
    ['unreadable SDP', 'v=0\r\nm=audio x', 'sdp_invalid'],
  ])('refuses a browser offer with %s (%s)', async (_what, offer, reason) => {
    const w = world();
    expect(await evaluateBrowser(invite(token(NUMBER), { sdp: offer }), w.deps)).toMatchObject({ kind: 'reject', reason, step: 'media' });
  });

  it('applies the limits of the browser entry and the workspace', async () => {
    const w = world();
    w.limiter.refuse = 'limit_trunk_calls';
    expect(await evaluateBrowser(invite(token(NUMBER)), w.deps)).toMatchObject({ kind: 'reject', reason: 'limit_trunk_calls', step: 'limits', detail: expect.stringContaining('@browser') });
  });

  it('drops scanners like every other entry', async () => {
    const w = world();
    expect(await evaluateBrowser(invite(token(NUMBER), { headers: { 'User-Agent': 'friendly-scanner' } }), w.deps)).toMatchObject({ kind: 'drop', step: 'scanner' });
    expect(w.tokens.seen.size).toBe(0);
  });
});

describe('onBrowserEntry', () => {
  const ports = new Set([8443, 5062]);
  it.each([
    ['127.0.0.1:8443', true],
    ['203.0.113.7:5062', true],
    ['127.0.0.1:5060', false],
    ['[::1]:8443', true],
    ['[::1]:5060', false],
    [undefined, false],
  ])('a request received on %s is a browser call: %s', (receivedOn, expected) => {
    expect(onBrowserEntry({ receivedOn } as never, ports)).toBe(expected);
  });

  it('is never true while test calls are off (no entry ports)', () => {
    expect(onBrowserEntry({ receivedOn: '127.0.0.1:8443' } as never, new Set())).toBe(false);
  });
});
