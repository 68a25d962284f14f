import { TOKEN_HEADER, verifyToken, type TestCallClaims } from '../../browser/token.js';
import type { TestCallTokenStore } from '../../browser/tokenStore.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

export interface TokenPolicy {
  readonly secret: string;
  /** the longest lifetime a token may have been signed with (test_calls.token_ttl_s) */
  readonly maxTtlS: number;
}

/** Browser step: the INVITE's X-Test-Call-Token, signed by this edge's secret and not expired. */
export function checkTestCallToken(req: SipRequestView, policy: TokenPolicy, nowMs: number): Decision<TestCallClaims> {
  const verdict = verifyToken(policy.secret, req.header(TOKEN_HEADER), nowMs, policy.maxTtlS);
  if (verdict.ok) return proceed(verdict.claims);
  return verdict.problem === 'expired' ? reject('test_call_token_expired', verdict.detail) : reject('test_call_token_invalid', verdict.detail);
}

/**
 * Browser step: marks the token used; a token seen before is refused, whatever became of its
 * first call. A store that cannot answer refuses the call (503): a token never works twice.
 */
export async function consumeTestCallToken(claims: TestCallClaims, store: TestCallTokenStore): Promise<Decision<TestCallClaims>> {
  let fresh;
  try {
    fresh = await store.consume(claims.jti, claims.exp * 1000);
  } catch (err) {
    return reject('route_unavailable', `test-call token store unavailable: ${(err as Error).message}`);
  }
  return fresh === 'fresh' ? proceed(claims) : reject('test_call_token_used', 'this test-call token was already presented');
}
