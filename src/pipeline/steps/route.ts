import type { PhoneNumberRecord, TrunkRecord } from '../../domain/model.js';
import type { RecordReader, RouteStore } from '../../stores/routeStore.js';
import { proceed, reject, type AgentTarget, type CalledNumber, type Decision, type Refusal } from '../types.js';

export interface Route {
  readonly number: PhoneNumberRecord;
  readonly targets: readonly AgentTarget[];
  readonly voicemailMessage: string | null;
}

/**
 * Step 6: the number record and its agents; every outcome of BRIEF "Route lookup". `read`: how
 * a cache miss reads the record (default GET; the pipeline passes the limiter's read that admits
 * the call in the same round trip).
 */
export async function resolveRoute(trunk: TrunkRecord, did: CalledNumber, store: RouteStore, read?: RecordReader): Promise<Decision<Route>> {
  const found = await store.number(did.e164, read);
  if (found.status === 'unavailable') return reject('route_unavailable', `route store unavailable: ${found.error.message}`);
  if (found.status === 'absent') return reject('number_not_found', `${did.e164} is not registered`);
  const number = found.value;
  const usable = usableNumber(number, did.e164);
  if (usable) return usable;
  if (trunk.workspace_id !== null && trunk.workspace_id !== number.workspace_id) {
    return reject('number_wrong_workspace', `${did.e164} belongs to another workspace than trunk ${trunk.id}`);
  }
  if (number.trunk_id !== null && number.trunk_id !== trunk.id && number.telephony === 'byoc') {
    return reject('number_wrong_trunk', `${did.e164} arrives on trunk ${number.trunk_id}, not ${trunk.id}`);
  }
  return routeOf(number, did.e164, store);
}

/** A number that cannot take a call for its status: the refusal; null when it is active. */
export function usableNumber(number: PhoneNumberRecord, shown: string): Refusal | null {
  switch (number.status) {
    case 'released':
      return reject('number_released', `${shown} was released`);
    case 'provisioning':
      return reject('number_provisioning', `${shown} is still provisioning`);
    case 'suspended':
      return reject('number_suspended', `${shown} is suspended`);
    case 'active':
      return null;
    default: {
      const never: never = number.status;
      throw new Error(`unknown number status ${String(never)}`);
    }
  }
}

/** An active number's inbound routing: its primary agent (which must exist), the fallback if it does, the voicemail text. */
export async function routeOf(number: PhoneNumberRecord, shown: string, store: RouteStore): Promise<Decision<Route>> {
  const routing = number.inbound_routing;
  if (routing === null) return reject('number_outbound_only', `${shown} has no inbound routing`);
  const [primary, fallback] = await Promise.all([
    store.agent(routing.agent_id),
    routing.fallback ? store.agent(routing.fallback.agent_id) : Promise.resolve(null),
  ]);
  if (primary.status === 'unavailable') return reject('route_unavailable', `route store unavailable: ${primary.error.message}`);
  if (primary.status === 'absent') return reject('agent_not_found', `agent ${routing.agent_id} does not exist`);
  const targets: AgentTarget[] = [{ role: 'primary', agent: primary.value }];
  if (fallback?.status === 'found') targets.push({ role: 'fallback', agent: fallback.value });
  return proceed({ number, targets, voicemailMessage: routing.voicemail_message });
}
