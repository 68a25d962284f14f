import { describe, expect, it } from 'vitest';
import { issueToken, MAX_TOKEN_LENGTH, verifyToken, type TestCallTarget } from '../../../src/browser/token.js';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const NUMBER: TestCallTarget = { kind: 'number', id: 'num_1', e164: '+15550001001' };
const AGENT: TestCallTarget = { kind: 'agent', id: 'agt_1' };

const issue = (o: Partial<{ target: TestCallTarget; ttlS: number; nowMs: number; workspaceId: string; secret: string }> = {}) =>
  issueToken(o.secret ?? SECRET, { workspaceId: o.workspaceId ?? 'ws_1', target: o.target ?? NUMBER, ttlS: o.ttlS ?? 300, nowMs: o.nowMs ?? NOW });

/** The token with its claims part replaced (the signature kept): what a tamperer sends. */
function withClaims(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [v, body, mac] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  change(claims);
  return `${v}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
}

describe('test-call tokens', () => {
  it.each([NUMBER, AGENT])('round-trips the workspace and the target (%o)', (target) => {
    const { token, claims } = issue({ target });
    const verdict = verifyToken(SECRET, token, NOW + 1000, 600);
    expect(verdict).toEqual({ ok: true, claims });
    if (!verdict.ok) return;
    expect(verdict.claims.workspaceId).toBe('ws_1');
    expect(verdict.claims.target).toEqual(target);
    expect(verdict.claims.exp - verdict.claims.iat).toBe(300);
  });

  it('gives every token its own id', () => {
    const ids = new Set(Array.from({ length: 50 }, () => issue().claims.jti));
    expect(ids.size).toBe(50);
  });

  it('is valid up to its expiry and expired from then on', () => {
    const { token, claims } = issue({ ttlS: 60 });
    expect(verifyToken(SECRET, token, claims.exp * 1000 - 1, 600).ok).toBe(true);
    expect(verifyToken(SECRET, token, claims.exp * 1000, 600)).toMatchObject({ ok: false, problem: 'expired' });
    expect(verifyToken(SECRET, token, claims.exp * 1000 + 3_600_000, 600)).toMatchObject({ ok: false, problem: 'expired' });
  });

  it('binds workspace and target: changing either breaks the signature', () => {
    const { token } = issue();
    const otherWorkspace = withClaims(token, (c) => (c.ws = 'ws_2'));
    const otherNumber = withClaims(token, (c) => ((c.t as Record<string, string>).id = 'num_2'));
    const toAgent = withClaims(token, (c) => (c.t = { k: 'agent', id: 'agt_1' }));
    const longer = withClaims(token, (c) => (c.exp = (c.exp as number) + 3600));
    for (const forged of [otherWorkspace, otherNumber, toAgent, longer]) {
      expect(verifyToken(SECRET, forged, NOW, 600)).toEqual({ ok: false, problem: 'invalid', detail: 'bad signature' });
    }
  });

  it('refuses a token signed with another secret, and anything that is not a token', () => {
    const { token } = issue({ secret: 'another-secret-0123456789abcdef012345' });
    expect(verifyToken(SECRET, token, NOW, 600)).toMatchObject({ ok: false, problem: 'invalid' });
    const [v, body, mac] = issue().token.split('.') as [string, string, string];
    for (const junk of [undefined, '', '   ', 'abc', `${v}.${body}`, `tc2.${body}.${mac}`, `${v}.${body}.${mac}x`, `${v}.${body}.`, `${v}..${mac}`, 'x'.repeat(MAX_TOKEN_LENGTH + 1)]) {
      expect(verifyToken(SECRET, junk, NOW, 600)).toMatchObject({ ok: false, problem: 'invalid' });
    }
  });

  it('refuses well-signed claims it cannot read or whose lifetime is out of bounds', () => {
    // signed with the right secret, as a leaked-config or old-version token would be
    const tooLong = issue({ ttlS: 3600 }).token;
    expect(verifyToken(SECRET, tooLong, NOW, 600)).toEqual({ ok: false, problem: 'invalid', detail: 'lifetime out of bounds' });
    const zero = issue({ ttlS: 0 }).token;
    expect(verifyToken(SECRET, zero, NOW - 1000, 600)).toEqual({ ok: false, problem: 'invalid', detail: 'lifetime out of bounds' });
  });

  it('accepts the header value with surrounding whitespace (header folding)', () => {
    const { token } = issue();
    expect(verifyToken(SECRET, `  ${token} `, NOW, 600).ok).toBe(true);
  });
});
