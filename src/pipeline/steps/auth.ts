import type { DigestAuthenticator } from '../../domain/digest.js';
import type { TrunkRecord } from '../../domain/model.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** Step 2: trunks with inbound credentials must also answer a digest challenge. */
export function checkTrunkAuth(req: SipRequestView, trunk: TrunkRecord, digest: DigestAuthenticator): Decision<void> {
  const { auth_username: username, auth_password: password } = trunk.inbound;
  if (!username || !password) return proceed(undefined);
  const verdict = digest.verify(req.header('proxy-authorization'), req.method, { username, password });
  switch (verdict) {
    case 'ok':
      return proceed(undefined);
    case 'missing':
      return reject('auth_required', `trunk ${trunk.id} requires digest authentication`, { 'Proxy-Authenticate': digest.challenge() });
    case 'stale':
      return reject('auth_required', 'nonce expired', { 'Proxy-Authenticate': `${digest.challenge()}, stale=true` });
    case 'invalid':
      return reject('auth_failed', `digest credentials refused for trunk ${trunk.id}`);
    default: {
      const never: never = verdict;
      throw new Error(`unexpected digest verdict ${String(never)}`);
    }
  }
}
