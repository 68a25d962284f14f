import type { TrunkRecord } from '../../domain/model.js';
import type { CallLimiter, Lease } from '../../limits/limiter.js';
import { proceed, reject, type Decision } from '../types.js';

/** Step 7: concurrent-call and calls-per-second limits of the trunk and the workspace. */
export async function admitCall(trunk: TrunkRecord, workspaceId: string, callId: string, limiter: CallLimiter): Promise<Decision<Lease>> {
  const admission = await limiter.admit(trunk, workspaceId, callId);
  if (admission.kind === 'admitted') return proceed(admission.lease);
  const scope = admission.reason.startsWith('limit_trunk') ? `trunk ${trunk.id}` : `workspace ${workspaceId}`;
  const what = admission.reason.endsWith('cps') ? 'calls per second' : 'concurrent calls';
  return reject(admission.reason, `${scope} is at its limit of ${what}`);
}
