import type { TestCallClaims } from '../../browser/token.js';
import type { PhoneNumberRecord } from '../../domain/model.js';
import type { RouteStore } from '../../stores/routeStore.js';
import { proceed, reject, type AgentTarget, type Decision } from '../types.js';
import { routeOf, usableNumber } from './route.js';

/** Where a test call goes: the token's agent, or the token's number's inbound routing. */
export interface TestCallRoute {
  readonly number: PhoneNumberRecord | null;
  readonly targets: readonly AgentTarget[];
  readonly voicemailMessage: string | null;
}

/**
 * Browser step: the token's target as it stands now, in the token's workspace. A number must
 * still be the same record (same id), active and routed inbound, like a carrier's call to it;
 * an agent must still belong to the workspace.
 */
export async function resolveTestCallTarget(claims: TestCallClaims, store: RouteStore): Promise<Decision<TestCallRoute>> {
  const target = claims.target;
  if (target.kind === 'agent') {
    const found = await store.agent(target.id);
    if (found.status === 'unavailable') return reject('route_unavailable', `route store unavailable: ${found.error.message}`);
    if (found.status === 'absent' || found.value.workspace_id !== claims.workspaceId) {
      return reject('agent_not_found', `agent ${target.id} is not in workspace ${claims.workspaceId}`);
    }
    return proceed({ number: null, targets: [{ role: 'primary', agent: found.value }], voicemailMessage: null });
  }

  const found = await store.number(target.e164);
  if (found.status === 'unavailable') return reject('route_unavailable', `route store unavailable: ${found.error.message}`);
  if (found.status === 'absent' || found.value.id !== target.id) return reject('number_not_found', `number ${target.id} (${target.e164}) is not registered`);
  const number = found.value;
  if (number.workspace_id !== claims.workspaceId) return reject('number_wrong_workspace', `number ${number.id} is not in workspace ${claims.workspaceId}`);
  const usable = usableNumber(number, number.phone_number);
  if (usable) return usable;
  return routeOf(number, number.phone_number, store);
}
