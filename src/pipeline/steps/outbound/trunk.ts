import type { PhoneNumberRecord, TrunkRecord } from '../../../domain/model.js';
import type { TrunkTable } from '../../../stores/routeStore.js';
import { proceed, reject, type Decision } from '../../types.js';

/**
 * Outbound step 4: the trunk that carries the call: the caller ID number's own trunk (a BYOC
 * number leaves through its customer's carrier), else the platform's default outbound trunk.
 */
export function selectOutboundTrunk(number: PhoneNumberRecord, trunks: TrunkTable, defaultTrunkId: string | undefined): Decision<TrunkRecord> {
  const trunkId = number.trunk_id ?? defaultTrunkId;
  if (!trunkId) return reject('no_outbound_trunk', `${number.phone_number} has no trunk and no default outbound trunk is configured`);
  const trunk = trunks.byId.get(trunkId);
  if (!trunk) return reject('no_outbound_trunk', `trunk ${trunkId} does not exist`);
  if (trunk.outbound.termination_uris.length === 0) return reject('no_outbound_trunk', `trunk ${trunkId} has no termination URIs`);
  if (trunk.workspace_id !== null && trunk.workspace_id !== number.workspace_id) {
    return reject('no_outbound_trunk', `trunk ${trunkId} belongs to another workspace`);
  }
  return proceed(trunk);
}
