import { EDGE_HEADERS_ALLOWANCE_BYTES, headerBytes, messageBytes } from '../../domain/messageSize.js';
import { sdpOfBody } from '../../domain/body.js';
import { requestedTimer } from '../../domain/sessionTimer.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** Headers of the caller's INVITE that may be copied to the other leg (trusted identity). */
const FORWARDABLE = ['P-Asserted-Identity', 'Identity'] as const;

/**
 * An INVITE the edge can bridge: it has one Contact with a SIP URI (the dialog's remote target,
 * RFC 3261 8.1.1.8; without it the caller's leg could never be ended), and the INVITE the edge
 * would send on fits in what drachtio-server takes from the app (see domain/messageSize.ts).
 */
export function checkInviteShape(req: SipRequestView, maxMessageBytes: number, minSeS = 90): Decision<null> {
  const interval = checkSessionInterval(req, minSeS);
  if (interval.kind !== 'continue') return interval;
  const contact = req.header('Contact');
  if (!contact || !/<?\s*sips?:[^\s>]+/i.test(contact) || /^\s*\*\s*$/.test(contact)) {
    return reject('contact_invalid', contact ? 'Contact is not a SIP URI' : 'INVITE without Contact');
  }
  const forwarded: Record<string, string> = {};
  for (const name of FORWARDABLE) {
    const value = req.header(name);
    if (value !== undefined) forwarded[name] = value;
  }
  // what is bridged is the SDP alone (a multipart body's SDP part); judge the body as sent otherwise
  const found = sdpOfBody(req.contentType, req.body);
  const bytes = messageBytes(forwarded, found.kind === 'sdp' ? found.sdp : req.body) + EDGE_HEADERS_ALLOWANCE_BYTES + headerBytes({ To: req.to, From: req.from });
  if (bytes > maxMessageBytes) {
    return reject('message_too_large', `the INVITE to bridge would be ~${bytes} bytes, over sip.max_message_bytes ${maxMessageBytes}`);
  }
  return proceed(null);
}

/** RFC 4028 5: a Session-Expires below the edge's Min-SE gets 422 with the edge's Min-SE. */
function checkSessionInterval(req: SipRequestView, minSeS: number): Decision<null> {
  const asked = requestedTimer((name) => req.header(name));
  if (asked.intervalS !== null && asked.intervalS < minSeS) {
    return reject('session_interval_too_small', `Session-Expires ${asked.intervalS} below Min-SE ${minSeS}`, { 'Min-SE': String(minSeS) });
  }
  return proceed(null);
}

