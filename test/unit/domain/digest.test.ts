import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse, parseDigest } from '../../../src/domain/digest.js';

const SECRET = 'nonce-secret-0123456789';
const TTL = 60_000;
const URI = 'sip:+15550001001@edge.example.com';
const CREDS = { username: 'carrier-a', password: 'correct horse' };

function clock(start = 1_700_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('DigestAuthenticator', () => {
  it('challenges with the realm, a nonce, MD5 and qop=auth', () => {
    const digest = new DigestAuthenticator('sip-edge', SECRET);
    const p = parseDigest(digest.challenge());
    expect(p).toMatchObject({ realm: 'sip-edge', algorithm: 'MD5', qop: 'auth' });
    expect(p?.nonce).toMatch(/\S{8,}/);
  });

  it('accepts the response to its own challenge', () => {
    const digest = new DigestAuthenticator('sip-edge', SECRET);
    const header = digestResponse(digest.challenge(), 'INVITE', URI, CREDS.username, CREDS.password);
    expect(digest.verify(header, 'INVITE', CREDS)).toBe('ok');
  });

  it('accepts a nonce issued by another instance sharing the secret, not by one with another secret', () => {
    const issuer = new DigestAuthenticator('sip-edge', SECRET);
    const header = digestResponse(issuer.challenge(), 'INVITE', URI, CREDS.username, CREDS.password);
    expect(new DigestAuthenticator('sip-edge', SECRET).verify(header, 'INVITE', CREDS)).toBe('ok');
    expect(new DigestAuthenticator('sip-edge', 'another-secret-9876543210').verify(header, 'INVITE', CREDS)).toBe('invalid');
  });

  type Tamper = (challenge: string) => string;
  const answer = (username: string, password: string, method = 'INVITE'): Tamper => (ch) => digestResponse(ch, method, URI, username, password);
  const withRealm = (realm: string): Tamper => (ch) =>
    digestResponse(ch.replace(/realm="[^"]*"/, `realm="${realm}"`), 'INVITE', URI, CREDS.username, CREDS.password);
  const withNonce = (edit: (nonce: string) => string): Tamper => (ch) => {
    const nonce = parseDigest(ch)!.nonce!;
    return digestResponse(ch.replace(nonce, edit(nonce)), 'INVITE', URI, CREDS.username, CREDS.password);
  };
  const flipLast = (s: string) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');

  it.each<[string, Tamper, 'ok' | 'invalid' | 'missing']>([
    ['wrong password', answer(CREDS.username, 'wrong password'), 'invalid'],
    ['wrong username', answer('carrier-b', CREDS.password), 'invalid'],
    ['wrong realm', withRealm('other-realm'), 'invalid'],
    ['signature of the nonce tampered', withNonce(flipLast), 'invalid'],
    ['timestamp of the nonce moved forward', withNonce((n) => `${(parseInt(n.split('.')[0]!, 36) + 60_000).toString(36)}.${n.split('.')[1]}`), 'invalid'],
    ['nonce without signature', withNonce((n) => n.split('.')[0]!), 'invalid'],
    ['response computed for another method', answer(CREDS.username, CREDS.password, 'REGISTER'), 'invalid'],
    ['response digits tampered', (ch) => answer(CREDS.username, CREDS.password)(ch).replace(/response="([0-9a-f]+)"/, (_m, r: string) => `response="${flipLast(r)}"`), 'invalid'],
    ['response in upper-case hex', (ch) => answer(CREDS.username, CREDS.password)(ch).replace(/response="([0-9a-f]+)"/, (_m, r: string) => `response="${r.toUpperCase()}"`), 'ok'],
  ])('%s -> %s', (_name, make, expected) => {
    const digest = new DigestAuthenticator('sip-edge', SECRET);
    expect(digest.verify(make(digest.challenge()), 'INVITE', CREDS)).toBe(expected);
  });

  it.each([
    ['no header', undefined],
    ['empty header', ''],
    ['Basic credentials', 'Basic Y2Fycmllci1hOnB3'],
    ['Digest without nonce', `Digest username="carrier-a", realm="sip-edge", uri="${URI}", response="00"`],
    ['Digest without response', `Digest username="carrier-a", realm="sip-edge", nonce="abc.def", uri="${URI}"`],
  ])('%s -> missing', (_name, header) => {
    expect(new DigestAuthenticator('sip-edge', SECRET).verify(header, 'INVITE', CREDS)).toBe('missing');
  });

  it.each([
    ['just inside the lifetime', TTL - 1, 'ok'],
    ['past the lifetime', TTL + 1, 'stale'],
    ['long expired', 24 * 3600_000, 'stale'],
  ])('a nonce %s -> %s', (_name, age, expected) => {
    const c = clock();
    const digest = new DigestAuthenticator('sip-edge', SECRET, TTL, c.now);
    const header = digestResponse(digest.challenge(), 'INVITE', URI, CREDS.username, CREDS.password);
    c.t += age;
    expect(digest.verify(header, 'INVITE', CREDS)).toBe(expected);
  });
});
