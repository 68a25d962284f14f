import type { CountryCode } from 'libphonenumber-js';
import { normaliseNumber } from '../../domain/e164.js';
import { uriOfNameAddr, userOfUri } from '../../domain/sipHeaders.js';
import { proceed, reject, type CalledNumber, type Caller, type Decision, type SipRequestView } from '../types.js';

/** Step 5: the dialled number from the Request-URI user (else the To user), as E.164. */
export function extractDid(req: SipRequestView, defaultCountry: CountryCode | undefined): Decision<CalledNumber> {
  const fromRuri = userOfUri(req.requestUri);
  const fromTo = userOfUri(uriOfNameAddr(req.to));
  const raw = fromRuri.user !== '' ? fromRuri.user : fromTo.user;
  if (raw === '') return reject('did_invalid', 'neither the Request-URI nor To carries a number');
  const normalised = normaliseNumber(raw, defaultCountry);
  if (!normalised) return reject('did_invalid', `"${raw.slice(0, 40)}" is not a phone number`);
  const source = fromRuri.user !== '' ? fromRuri : fromTo;
  return proceed({ raw: source.scheme === 'tel' ? `tel:${raw}` : raw, e164: normalised.e164 });
}

/** The caller as the From user says (normalised when it reads as a number). */
export function extractCaller(req: SipRequestView, defaultCountry: CountryCode | undefined): Caller {
  const raw = userOfUri(uriOfNameAddr(req.from)).user;
  return { raw, e164: raw === '' ? null : (normaliseNumber(raw, defaultCountry)?.e164 ?? null) };
}
