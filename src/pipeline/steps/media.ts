import { classifyOffer, SdpError, type MediaOffer } from '../../domain/sdp.js';
import type { TrunkRecord } from '../../domain/model.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** Step 4: the trunk's media encryption policy against the SDP offer (never logs the offer). */
export function checkMedia(req: SipRequestView, trunk: TrunkRecord): Decision<MediaOffer> {
  let offer: MediaOffer;
  try {
    offer = classifyOffer(req.sdp);
  } catch (err) {
    if (err instanceof SdpError) return reject('sdp_invalid', err.message);
    throw err;
  }
  const policy = trunk.inbound.media_encryption;
  if (policy === 'required' && offer !== 'srtp') {
    const what = offer === 'none' ? 'no SDP offer to check (late offer)' : `offer is ${offer === 'mixed' ? 'partly' : 'not'} encrypted`;
    return reject('srtp_required', `trunk ${trunk.id} requires SRTP; ${what}`);
  }
  if (policy === 'disabled' && offer === 'srtp') {
    return reject('srtp_not_allowed', `trunk ${trunk.id} has media encryption disabled; offer is SRTP only`);
  }
  return proceed(offer);
}
