import type { TrunkRecord } from '../../domain/model.js';
import type { Admission, CallLimiter, Lease } from '../../limits/limiter.js';
import { proceed, reject, type Decision } from '../types.js';

/**
 * Step 7: concurrent-call and calls-per-second limits of the trunk and the workspace. `decided`:
 * the admission already made with the route lookup, if any.
 */
export async function admitCall(trunk: TrunkRecord, workspaceId: string, callId: string, limiter: CallLimiter, decided: Admission | null = null): Promise<Decision<Lease>> {
  const admission = decided ?? (await limiter.admit(trunk, workspaceId, callId));
  if (admission.kind === 'admitted') return proceed(admission.lease);
  const scope = admission.reason.startsWith('limit_trunk') ? `trunk ${trunk.id}` : `workspace ${workspaceId}`;
  const what = admission.reason.endsWith('cps') ? 'calls per second' : 'concurrent calls';
  return reject(admission.reason, `${scope} is at its limit of ${what}`);
}
