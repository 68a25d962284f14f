import type { TrunkRecord } from '../../domain/model.js';
import type { SourceFloodGuard } from '../../limits/floodGuard.js';
import type { TrunkTable } from '../../stores/routeStore.js';
import { drop, proceed, reject, type Decision, type SipRequestView } from '../types.js';

/**
 * Step 1: the trunk is whoever owns the source address (longest CIDR match). Sources that match
 * no trunk and send faster than the flood guard allows are dropped without an answer.
 */
export function identifyTrunk(req: SipRequestView, trunks: TrunkTable, silentDrop: boolean, flood?: SourceFloodGuard): Decision<TrunkRecord> {
  const trunk = trunks.bySource.match(req.sourceAddress);
  if (trunk) return proceed(trunk);
  if (flood && !flood.allow(req.sourceAddress)) return drop('source_flood', `source ${req.sourceAddress} is over the unknown-source rate`);
  const detail = `source ${req.sourceAddress} matches no trunk`;
  return silentDrop ? drop('unknown_source', detail) : reject('unknown_source', detail);
}
