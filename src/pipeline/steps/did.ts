import type { CountryCode } from 'libphonenumber-js';
import { isE164, normaliseNumber } from '../../domain/e164.js';
import { uriOfNameAddr, userOfUri } from '../../domain/sipHeaders.js';
import { proceed, reject, type CalledNumber, type Caller, type Decision, type SipRequestView } from '../types.js';

/**
 * Step 5: the dialled number from the Request-URI user (else the To user), as E.164.
 *
 * A user part already written as E.164 (how carriers send nearly every call) is used as sent:
 * reading it with libphonenumber costs more than the rest of the policy checks together, and the
 * route lookup is the test that matters, since numbers are stored in E.164. `confirmDid` reads it
 * when the lookup does not find it, so an impossible number is still did_invalid, and a non-canonical
 * one ("+4402071234567": national prefix after the country code) is looked up in canonical form.
 */
export function extractDid(req: SipRequestView, defaultCountry: CountryCode | undefined): Decision<CalledNumber> {
  const fromRuri = userOfUri(req.requestUri);
  const fromTo = userOfUri(uriOfNameAddr(req.to));
  const user = fromRuri.user !== '' ? fromRuri.user : fromTo.user;
  if (user === '') return reject('did_invalid', 'neither the Request-URI nor To carries a number');
  const raw = (fromRuri.user !== '' ? fromRuri : fromTo).scheme === 'tel' ? `tel:${user}` : user;
  if (isE164(user)) return proceed({ raw, e164: user, read: false });
  return readDid(raw, user, defaultCountry);
}

/** A DID used as sent, read now: did_invalid, or its E.164 form (which may differ). */
export function confirmDid(did: CalledNumber): Decision<CalledNumber> {
  return did.read ? proceed(did) : readDid(did.raw, did.e164, undefined);
}

function readDid(raw: string, user: string, defaultCountry: CountryCode | undefined): Decision<CalledNumber> {
  const normalised = normaliseNumber(user, defaultCountry);
  if (!normalised) return reject('did_invalid', `"${user.slice(0, 40)}" is not a phone number`);
  return proceed({ raw, e164: normalised.e164, read: true });
}

/** The caller as the From user says (normalised when it reads as a number). */
export function extractCaller(req: SipRequestView, defaultCountry: CountryCode | undefined): Caller {
  const raw = userOfUri(uriOfNameAddr(req.from)).user;
  return { raw, e164: raw === '' ? null : (normaliseNumber(raw, defaultCountry)?.e164 ?? null) };
}
