import { classifyOffer, SdpError } from '../../domain/sdp.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';
import { sdpOfRequest } from './media.js';

/**
 * Browser step: a WebRTC caller offers DTLS-SRTP in its INVITE (browsers never send a late
 * offer). Anything else is not a browser the anchor can terminate: 488.
 */
export function checkBrowserOffer(req: SipRequestView): Decision<string> {
  const sdp = sdpOfRequest(req);
  if (sdp.kind !== 'continue') return sdp;
  if (sdp.value === undefined) return reject('media_encryption_mismatch', 'a browser test call must offer DTLS-SRTP in its INVITE (no SDP offer)');
  let offer;
  try {
    offer = classifyOffer(sdp.value);
  } catch (err) {
    if (err instanceof SdpError) return reject('sdp_invalid', err.message);
    throw err;
  }
  if (offer !== 'srtp') return reject('media_encryption_mismatch', `a browser test call must offer DTLS-SRTP; the offer is ${offer === 'mixed' ? 'partly' : 'not'} encrypted`);
  return proceed(sdp.value);
}
