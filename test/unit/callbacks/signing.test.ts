import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, signature, signedHeaders, TIMESTAMP_HEADER, verify } from '../../../src/callbacks/signing.js';

const SECRET = 'a-callback-secret-of-32-characters!!';
const BODY = '{"event_id":"call_x:1","state":"queued"}';
const NOW = 1_700_000_000_000;

describe('status callback signatures', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>" with the secret, hex, tagged v1 (what the README tells receivers)', () => {
    // computed here independently of the module, as a receiver would
    const expected = createHmac('sha256', SECRET).update(`1700000000.${BODY}`).digest('hex');
    expect(signature(SECRET, 1_700_000_000, BODY)).toBe(`v1=${expected}`);
    expect(signedHeaders(SECRET, BODY, NOW)).toEqual({ [TIMESTAMP_HEADER]: '1700000000', [SIGNATURE_HEADER]: `v1=${expected}` });
  });

  it('verifies what it signed', () => {
    const h = signedHeaders(SECRET, BODY, NOW);
    expect(verify(SECRET, { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER] }, BODY, NOW + 1000)).toBe('ok');
  });

  it.each<[string, (h: { timestamp: string; signature: string }) => { timestamp: string | undefined; signature: string | undefined }, string, string, number]>([
    ['another secret', (h) => h, 'x'.repeat(32), BODY, NOW],
    ['a changed body', (h) => h, SECRET, BODY.replace('queued', 'failed'), NOW],
    ['a replay 6 minutes later', (h) => h, SECRET, BODY, NOW + 360_000],
    ['a timestamp from the future', (h) => h, SECRET, BODY, NOW - 360_000],
    ['a fresh timestamp on an old signature', (h) => ({ ...h, timestamp: String(Number(h.timestamp) + 60) }), SECRET, BODY, NOW + 60_000],
    ['no signature', (h) => ({ ...h, signature: undefined }), SECRET, BODY, NOW],
    ['a timestamp that is no number', (h) => ({ ...h, timestamp: '17e8' }), SECRET, BODY, NOW],
    ['a truncated signature', (h) => ({ ...h, signature: h.signature.slice(0, 20) }), SECRET, BODY, NOW],
  ])('refuses %s', (_what, tamper, secret, body, now) => {
    const h = signedHeaders(SECRET, BODY, NOW);
    const verdict = verify(secret, tamper({ timestamp: h[TIMESTAMP_HEADER]!, signature: h[SIGNATURE_HEADER]! }), body, now);
    expect(verdict).not.toBe('ok');
  });

  it('tells stale from mismatched', () => {
    const h = signedHeaders(SECRET, BODY, NOW);
    const headers = { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER] };
    expect(verify(SECRET, headers, BODY, NOW + 301_000)).toBe('stale');
    expect(verify(SECRET, headers, BODY, NOW + 299_000)).toBe('ok');
    expect(verify(SECRET, headers, `${BODY} `, NOW)).toBe('mismatch');
  });
});
