import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse, parseDigest } from '../../../src/domain/digest.js';
import { checkTrunkAuth } from '../../../src/pipeline/steps/auth.js';
import { request, trunkRecord } from '../support/fakes.js';

const RURI = 'sip:+15550001001@edge.example.com';
const open = trunkRecord({ id: 'open' });
const locked = trunkRecord({ id: 'locked', inbound: { auth_username: 'carrier-a', auth_password: 'correct horse' } });

function setup(ttl = 60_000) {
  const clock = { t: 1_700_000_000_000 };
  const digest = new DigestAuthenticator('sip-edge', 'nonce-secret-0123456789', ttl, () => clock.t);
  const answer = (username: string, password: string) => digestResponse(digest.challenge(), 'INVITE', RURI, username, password);
  return { clock, digest, answer };
}

describe('checkTrunkAuth (auth step)', () => {
  it('a trunk without inbound credentials continues, whatever the request carries', () => {
    const { digest } = setup();
    expect(checkTrunkAuth(request(), open, digest).kind).toBe('continue');
    expect(checkTrunkAuth(request({ headers: { 'Proxy-Authorization': 'Digest garbage' } }), open, digest).kind).toBe('continue');
  });

  it('no Proxy-Authorization -> auth_required with a Proxy-Authenticate challenge', () => {
    const { digest } = setup();
    const decision = checkTrunkAuth(request(), locked, digest);
    expect(decision).toMatchObject({ kind: 'reject', reason: 'auth_required' });
    const challenge = decision.kind === 'reject' ? decision.headers?.['Proxy-Authenticate'] : undefined;
    expect(challenge).toMatch(/^Digest /);
    expect(parseDigest(challenge)).toMatchObject({ realm: 'sip-edge', qop: 'auth' });
    expect(parseDigest(challenge)?.nonce).toBeTruthy();
  });

  it.each([
    ['the right credentials', 'carrier-a', 'correct horse', { kind: 'continue' }],
    ['a wrong password', 'carrier-a', 'wrong horse', { kind: 'reject', reason: 'auth_failed' }],
    ['a wrong username', 'carrier-b', 'correct horse', { kind: 'reject', reason: 'auth_failed' }],
  ])('answered with %s -> %o', (_name, username, password, expected) => {
    const { digest, answer } = setup();
    const req = request({ requestUri: RURI, headers: { 'Proxy-Authorization': answer(username, password) } });
    expect(checkTrunkAuth(req, locked, digest)).toMatchObject(expected);
  });

  it('an expired nonce -> auth_required with a fresh challenge marked stale', () => {
    const { clock, digest, answer } = setup(1000);
    const header = answer('carrier-a', 'correct horse');
    clock.t += 5000;
    const decision = checkTrunkAuth(request({ headers: { 'Proxy-Authorization': header } }), locked, digest);
    expect(decision).toMatchObject({ kind: 'reject', reason: 'auth_required' });
    const challenge = decision.kind === 'reject' ? decision.headers?.['Proxy-Authenticate'] : undefined;
    expect(parseDigest(challenge)).toMatchObject({ stale: 'true', realm: 'sip-edge' });
  });

  it('a refusal of bad credentials does not echo the password', () => {
    const { digest, answer } = setup();
    const decision = checkTrunkAuth(request({ headers: { 'Proxy-Authorization': answer('carrier-a', 'wrong horse') } }), locked, digest);
    expect(JSON.stringify(decision)).not.toContain('correct horse');
  });
});
