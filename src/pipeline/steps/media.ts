import { classifyOffer, SdpError, type MediaOffer } from '../../domain/sdp.js';
import type { MediaEncryption, TrunkRecord } from '../../domain/model.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** Step 4: the trunk's inbound media encryption policy against the SDP offer (never logs the offer). */
export function checkMedia(req: SipRequestView, trunk: TrunkRecord): Decision<MediaOffer> {
  return checkMediaPolicy(req.sdp, trunk.inbound.media_encryption, trunk.id);
}

/** One media policy against one offer: inbound uses the trunk's inbound side, outbound its outbound side. */
export function checkMediaPolicy(sdp: string | undefined, policy: MediaEncryption, trunkId: string): Decision<MediaOffer> {
  let offer: MediaOffer;
  try {
    offer = classifyOffer(sdp);
  } catch (err) {
    if (err instanceof SdpError) return reject('sdp_invalid', err.message);
    throw err;
  }
  if (policy === 'required' && offer !== 'srtp') {
    const what = offer === 'none' ? 'no SDP offer to check (late offer)' : `offer is ${offer === 'mixed' ? 'partly' : 'not'} encrypted`;
    return reject('srtp_required', `trunk ${trunkId} requires SRTP; ${what}`);
  }
  if (policy === 'disabled' && offer === 'srtp') {
    return reject('srtp_not_allowed', `trunk ${trunkId} has media encryption disabled; offer is SRTP only`);
  }
  return proceed(offer);
}
