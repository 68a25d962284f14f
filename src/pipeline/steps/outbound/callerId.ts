import type { CountryCode } from 'libphonenumber-js';
import { normaliseNumber } from '../../../domain/e164.js';
import type { AgentRecord, PhoneNumberRecord } from '../../../domain/model.js';
import { uriOfNameAddr, userOfUri } from '../../../domain/sipHeaders.js';
import type { RouteStore } from '../../../stores/routeStore.js';
import { proceed, reject, type Decision, type SipRequestView } from '../../types.js';

/**
 * Outbound step 2: the caller ID (P-Asserted-Identity set by the agent, else the From user) is
 * an active number of the agent's workspace; a personal number only when verified.
 */
export async function checkCallerId(req: SipRequestView, agent: AgentRecord, store: RouteStore, defaultCountry: CountryCode | undefined): Promise<Decision<PhoneNumberRecord>> {
  const claimed = userOfUri(uriOfNameAddr(req.header('p-asserted-identity') ?? req.from)).user;
  const e164 = normaliseNumber(claimed, defaultCountry)?.e164;
  if (!e164) return reject('caller_id_not_owned', `caller ID "${claimed.slice(0, 40)}" is not a phone number`);
  const found = await store.number(e164);
  if (found.status === 'unavailable') return reject('route_unavailable', `route store unavailable: ${found.error.message}`);
  if (found.status === 'absent') return reject('caller_id_not_owned', `${e164} is not a number of this platform`);
  const number = found.value;
  if (number.workspace_id !== agent.workspace_id) return reject('caller_id_not_owned', `${e164} belongs to another workspace`);
  if (number.status !== 'active') return reject('caller_id_not_owned', `${e164} is ${number.status}`);
  if (number.telephony === 'personal' && !number.verified) return reject('caller_id_not_owned', `personal number ${e164} is not verified`);
  return proceed(number);
}
