import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a signed status callback. */
export const SIGNATURE_HEADER = 'X-Sip-Edge-Signature';
export const TIMESTAMP_HEADER = 'X-Sip-Edge-Timestamp';
/** The version tag in the signature header: `v1=<hex>`; a later scheme gets its own tag. */
const SCHEME = 'v1';

/** How far a receiver should let a timestamp be from its clock (the README's snippet uses the same). */
export const DEFAULT_TOLERANCE_S = 300;

/**
 * The signature of one delivery: HMAC-SHA256, keyed with the configured secret, over
 * `<timestamp>.<body>` — the unix time in seconds of this delivery, a dot, and the exact bytes of
 * the JSON body. The timestamp is inside the MAC, so a receiver that refuses old timestamps
 * refuses a replayed delivery, and the body cannot be swapped under a fresh timestamp.
 */
export function signature(secret: string, timestampS: number, body: string): string {
  return `${SCHEME}=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

export function signedHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestampS = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(timestampS), [SIGNATURE_HEADER]: signature(secret, timestampS, body) };
}

export type Verdict = 'ok' | 'missing' | 'malformed' | 'stale' | 'mismatch';

/**
 * What a receiver does (and the README shows): a timestamp within `toleranceS` of its own clock
 * and a signature equal, compared in constant time, to the one it computes over the body as
 * received. Used by the tests as the receiver's side.
 */
export function verify(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowMs: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): Verdict {
  if (headers.timestamp === undefined || headers.signature === undefined) return 'missing';
  if (!/^\d{1,12}$/.test(headers.timestamp)) return 'malformed';
  const timestampS = Number(headers.timestamp);
  if (Math.abs(nowMs / 1000 - timestampS) > toleranceS) return 'stale';
  const expected = Buffer.from(signature(secret, timestampS, body));
  const given = Buffer.from(headers.signature.trim());
  if (given.length !== expected.length) return 'mismatch';
  return timingSafeEqual(given, expected) ? 'ok' : 'mismatch';
}
