import type { DoNotCallLookup } from '../../../stores/dnc.js';
import { proceed, reject, type Decision } from '../../types.js';

/**
 * Outbound step: the destination is on neither the workspace's do-not-call list nor the
 * platform's. Runs on every outbound path (an agent's INVITE, a transfer it asks for, an API call)
 * before any slot is taken or INVITE sent. When the lists cannot be read the call is refused: a
 * do-not-call list is a legal duty, and dialling without checking it is what it exists to prevent.
 */
export async function checkDoNotCall(e164: string, workspaceId: string, dnc: DoNotCallLookup): Promise<Decision<void>> {
  let listing;
  try {
    listing = await dnc.listing(workspaceId, e164);
  } catch (err) {
    return reject('route_unavailable', `do-not-call lists unavailable: ${(err as Error).message}`);
  }
  if (listing === null) return proceed(undefined);
  return reject('destination_opted_out', `destination is on the ${listing === 'workspace' ? "workspace's" : "platform's"} do-not-call list`);
}
