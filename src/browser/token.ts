import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Test-call tokens: what POST /v1/test-calls hands a browser and the browser presents on its
 * INVITE (X-Test-Call-Token). `tc1.<claims>.<mac>`: the claims as base64url JSON and an
 * HMAC-SHA256 over "tc1.<claims>" with the configured secret, base64url. The token binds one
 * workspace and one target; the edge routes by the claims, never by the Request-URI, so a token
 * cannot be pointed at anything else. Single use is kept in Redis (see TestCallTokenStore).
 */
export const TOKEN_VERSION = 'tc1';
export const TOKEN_HEADER = 'X-Test-Call-Token';
/** The longest a token is read at all: a header past this is refused unread. */
export const MAX_TOKEN_LENGTH = 2048;

export type TestCallTarget =
  | { readonly kind: 'number'; readonly id: string; readonly e164: string }
  | { readonly kind: 'agent'; readonly id: string };

export interface TestCallClaims {
  /** token id: the single-use key */
  readonly jti: string;
  readonly workspaceId: string;
  readonly target: TestCallTarget;
  /** epoch seconds */
  readonly iat: number;
  readonly exp: number;
}

const wire = z.strictObject({
  jti: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  ws: z.string().min(1).max(128),
  t: z.union([
    z.strictObject({ k: z.literal('number'), id: z.string().min(1).max(64), e164: z.string().regex(/^\+[1-9]\d{1,14}$/) }),
    z.strictObject({ k: z.literal('agent'), id: z.string().min(1).max(64) }),
  ]),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
});

export type TokenVerdict =
  | { readonly ok: true; readonly claims: TestCallClaims }
  | { readonly ok: false; readonly problem: 'invalid' | 'expired'; readonly detail: string };

function mac(secret: string, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed).digest();
}

/** A new token for `target` in `workspaceId`, valid `ttlS` seconds from `nowMs`. */
export function issueToken(secret: string, input: { workspaceId: string; target: TestCallTarget; ttlS: number; nowMs: number; jti?: string }): { token: string; claims: TestCallClaims } {
  const iat = Math.floor(input.nowMs / 1000);
  const claims: TestCallClaims = { jti: input.jti ?? randomBytes(16).toString('base64url'), workspaceId: input.workspaceId, target: input.target, iat, exp: iat + input.ttlS };
  const t = claims.target.kind === 'number' ? { k: 'number' as const, id: claims.target.id, e164: claims.target.e164 } : { k: 'agent' as const, id: claims.target.id };
  const body = Buffer.from(JSON.stringify({ jti: claims.jti, ws: claims.workspaceId, t, iat: claims.iat, exp: claims.exp })).toString('base64url');
  const signed = `${TOKEN_VERSION}.${body}`;
  return { token: `${signed}.${mac(secret, signed).toString('base64url')}`, claims };
}

/**
 * Checks a presented token: signature first (constant-time), then the claims, then expiry
 * against `nowMs`. `maxTtlS` bounds exp - iat, so a token signed with a longer life (an old
 * config, a leaked secret's forgery attempt with a far expiry) is refused as invalid.
 */
export function verifyToken(secret: string, token: string | undefined, nowMs: number, maxTtlS: number): TokenVerdict {
  if (token === undefined || token.trim() === '') return { ok: false, problem: 'invalid', detail: `no ${TOKEN_HEADER} header` };
  const text = token.trim();
  if (text.length > MAX_TOKEN_LENGTH) return { ok: false, problem: 'invalid', detail: 'token too long' };
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) return { ok: false, problem: 'invalid', detail: 'not a test-call token' };
  const [version, body, signature] = parts as [string, string, string];
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secret, `${version}.${body}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'invalid', detail: 'bad signature' };
  let parsed: z.infer<typeof wire>;
  try {
    parsed = wire.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, problem: 'invalid', detail: 'unreadable claims' };
  }
  if (parsed.exp <= parsed.iat || parsed.exp - parsed.iat > maxTtlS) return { ok: false, problem: 'invalid', detail: 'lifetime out of bounds' };
  if (nowMs >= parsed.exp * 1000) return { ok: false, problem: 'expired', detail: `expired ${Math.round(nowMs / 1000 - parsed.exp)} s ago` };
  const target: TestCallTarget = parsed.t.k === 'number' ? { kind: 'number', id: parsed.t.id, e164: parsed.t.e164 } : { kind: 'agent', id: parsed.t.id };
  return { ok: true, claims: { jti: parsed.jti, workspaceId: parsed.ws, target, iat: parsed.iat, exp: parsed.exp } };
}
