import type { DigestAuthenticator } from '../../domain/digest.js';
import type { TrunkRecord } from '../../domain/model.js';
import type { AuthFailureGuard } from '../../limits/authGuard.js';
import { drop, proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** Before anything else is read: a source in its failed-auth cool-off is dropped, every method. */
export function checkCooloff(req: SipRequestView, guard: AuthFailureGuard | undefined): Decision<void> {
  const until = guard?.blockedUntil(req.sourceAddress) ?? null;
  if (until === null) return proceed(undefined);
  return drop('auth_blocked', `source ${req.sourceAddress} is in its failed-auth cool-off until ${new Date(until).toISOString()}`);
}

/**
 * Step 2: trunks with inbound credentials must also answer a digest challenge. Wrong answers are
 * counted by the guard (when given); the one that reaches the limit is still answered 403, the
 * source's later requests are dropped by checkCooloff.
 */
export function checkTrunkAuth(req: SipRequestView, trunk: TrunkRecord, digest: DigestAuthenticator, guard?: AuthFailureGuard): Decision<void> {
  const { auth_username: username, auth_password: password } = trunk.inbound;
  if (!username || !password) return proceed(undefined);
  const verdict = digest.verify(req.header('proxy-authorization'), req.method, { username, password });
  switch (verdict) {
    case 'ok':
      guard?.recordSuccess(req.sourceAddress);
      return proceed(undefined);
    case 'missing':
      return reject('auth_required', `trunk ${trunk.id} requires digest authentication`, { 'Proxy-Authenticate': digest.challenge() });
    case 'stale':
      return reject('auth_required', 'nonce expired', { 'Proxy-Authenticate': `${digest.challenge()}, stale=true` });
    case 'invalid': {
      const counted = guard?.recordFailure(req.sourceAddress, trunk.id);
      const blocked = counted?.blocked ? `; source dropped for its cool-off (${counted.scope} limit)` : '';
      return reject('auth_failed', `digest credentials refused for trunk ${trunk.id}${blocked}`);
    }
    default: {
      const never: never = verdict;
      throw new Error(`unexpected digest verdict ${String(never)}`);
    }
  }
}
