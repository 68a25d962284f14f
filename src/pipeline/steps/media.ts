import { ACCEPTED_BODY_TYPES, sdpOfBody, type BodyProblem } from '../../domain/body.js';
import { classifyOffer, SdpError, type MediaOffer } from '../../domain/sdp.js';
import type { MediaEncryption, TrunkRecord } from '../../domain/model.js';
import type { RejectReason } from '../reasons.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** What the media step learned: how secure the offer is, and the SDP itself (what the other leg gets). */
export interface MediaCheck {
  readonly offer: MediaOffer;
  /** only the SDP, also when it came in a multipart body; undefined: late offer */
  readonly sdp: string | undefined;
}

function bodyReason(problem: BodyProblem): RejectReason {
  switch (problem) {
    case 'malformed':
      return 'body_malformed';
    case 'unsupported':
      return 'body_unsupported';
    case 'no_sdp':
      return 'sdp_part_missing';
    default: {
      const never: never = problem;
      throw new Error(`unknown body problem ${String(never)}`);
    }
  }
}

/**
 * The SDP of this request: the body when it is application/sdp, the session SDP part of a
 * multipart body (SDP beside ISUP), undefined for a late offer; or the refusal of a body the edge
 * cannot use (400 / 415 with Accept / 488). Policy and bridging both read the SDP from here.
 */
export function sdpOfRequest(req: Pick<SipRequestView, 'body' | 'contentType'>): Decision<string | undefined> {
  const found = sdpOfBody(req.contentType, req.body);
  switch (found.kind) {
    case 'sdp':
      return proceed(found.sdp);
    case 'none':
      return proceed(undefined);
    case 'refused':
      return found.problem === 'unsupported'
        ? reject(bodyReason(found.problem), found.detail, { Accept: ACCEPTED_BODY_TYPES })
        : reject(bodyReason(found.problem), found.detail);
    default: {
      const never: never = found;
      throw new Error(`unknown body outcome ${JSON.stringify(never)}`);
    }
  }
}

/** Step 4: the trunk's inbound media encryption policy against the SDP offer (never logs the offer). */
export function checkMedia(req: SipRequestView, trunk: TrunkRecord): Decision<MediaCheck> {
  return checkMediaOf(req, trunk.inbound.media_encryption, trunk.id);
}

/** The SDP of a request against one media policy: inbound uses the trunk's inbound side, outbound its outbound side. */
export function checkMediaOf(req: SipRequestView, policy: MediaEncryption, trunkId: string): Decision<MediaCheck> {
  const sdp = sdpOfRequest(req);
  if (sdp.kind !== 'continue') return sdp;
  const offer = checkMediaPolicy(sdp.value, policy, trunkId);
  if (offer.kind !== 'continue') return offer;
  return proceed({ offer: offer.value, sdp: sdp.value });
}

/** One media policy against one SDP offer. */
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
