import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/**
 * RFC 3261 request inspection for requests outside a dialog (8.2, 16.3): which methods the edge
 * serves at all, and what it cannot process (Max-Forwards exhausted, an unknown URI scheme, an
 * extension it does not implement). Pure functions of the request and the policy.
 */

/** Methods the edge takes as a new request outside a dialog. */
export type ServedMethod = 'INVITE' | 'OPTIONS';

/**
 * The Allow header of a 405: the methods valid at the edge's address outside a dialog. (Inside a
 * call the edge also relays UPDATE, INFO, NOTIFY, MESSAGE and takes REFER from the agent; those
 * are listed in OPTIONS answers, see ALLOW_ALL.)
 */
export const ALLOW_OUTSIDE_DIALOG = 'INVITE, ACK, CANCEL, BYE, OPTIONS';
/** The Allow header of an OPTIONS answer: every method the edge handles, in or out of a dialog. */
export const ALLOW_ALL = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, NOTIFY, MESSAGE, REFER';

/** URI schemes the edge routes: SIP, SIPS and tel (RFC 3966 numbers). */
const SCHEMES: ReadonlySet<string> = new Set(['sip', 'sips', 'tel']);

/** At most this many option tags are named back in Unsupported, each cut to 64 characters. */
const MAX_ECHOED_TAGS = 8;
const OPTION_TAG = /^[A-Za-z0-9.!%*_+`'~-]+$/;

export interface ProtocolPolicy {
  /** option tags an INVITE may Require (lower case) */
  readonly supportedOptionTags: ReadonlySet<string>;
}

export const DEFAULT_PROTOCOL_POLICY: ProtocolPolicy = { supportedOptionTags: new Set() };

export function protocolPolicy(optionTags: readonly string[]): ProtocolPolicy {
  return { supportedOptionTags: new Set(optionTags.map((t) => t.toLowerCase())) };
}

/** RFC 3261 8.2.1: a method the edge understands but does not serve gets 405 with Allow. */
export function checkMethod(req: SipRequestView): Decision<ServedMethod> {
  const method = req.method.toUpperCase();
  if (method === 'INVITE' || method === 'OPTIONS') return proceed(method);
  return reject('method_not_allowed', `${printable(method, 32)} is not served outside a dialog`, { Allow: ALLOW_OUTSIDE_DIALOG });
}

/**
 * RFC 3261 16.3 (3), 8.2.2.1, 8.2.2.3: Max-Forwards 0 on a request the edge would forward -> 483;
 * a Request-URI scheme other than sip/sips/tel -> 416; a Require naming an option tag the edge
 * does not support -> 420 with Unsupported naming it. `forwards`: the edge passes the request
 * on (an INVITE); an OPTIONS is answered by the edge itself, so its Max-Forwards does not matter
 * (RFC 3261 11).
 */
export function checkProtocol(req: SipRequestView, policy: ProtocolPolicy, options: { forwards: boolean }): Decision<void> {
  if (options.forwards) {
    const raw = req.header('max-forwards');
    if (raw !== undefined) {
      const value = raw.trim();
      if (!/^\d{1,10}$/.test(value)) return reject('message_unparseable', `Max-Forwards "${printable(value, 16)}" is not a number`);
      if (Number(value) === 0) return reject('too_many_hops', 'Max-Forwards is 0');
    }
  }

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(req.requestUri)?.[1]?.toLowerCase();
  if (!scheme || !SCHEMES.has(scheme)) {
    return reject('unsupported_uri_scheme', `Request-URI scheme "${printable(scheme ?? req.requestUri, 16)}" is not sip, sips or tel`);
  }

  const require = req.header('require');
  if (require !== undefined) {
    const unsupported = optionTags(require).filter((tag) => !policy.supportedOptionTags.has(tag.toLowerCase()));
    if (unsupported.length > 0) {
      const named = unsupported.slice(0, MAX_ECHOED_TAGS).map((t) => (OPTION_TAG.test(t) ? t.slice(0, 64) : 'invalid-option-tag'));
      return reject('bad_extension', `Require names unsupported ${named.join(', ')}`, { Unsupported: [...new Set(named)].join(', ') });
    }
  }
  return proceed(undefined);
}

/** Option tags of a Require value (several headers arrive joined by commas). */
export function optionTags(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** For log details: control characters out, cut to `max`. */
function printable(value: string, max: number): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

