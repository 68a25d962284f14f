import type { TrunkRecord } from '../../domain/model.js';
import type { TrunkTable } from '../../stores/routeStore.js';
import { drop, proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** Step 1: the trunk is whoever owns the source address (longest CIDR match). */
export function identifyTrunk(req: SipRequestView, trunks: TrunkTable, silentDrop: boolean): Decision<TrunkRecord> {
  const trunk = trunks.bySource.match(req.sourceAddress);
  if (trunk) return proceed(trunk);
  const detail = `source ${req.sourceAddress} matches no trunk`;
  return silentDrop ? drop('unknown_source', detail) : reject('unknown_source', detail);
}
