import { describe, expect, it } from 'vitest';
import type { MediaEncryption } from '../../../src/domain/model.js';
import { checkMedia } from '../../../src/pipeline/steps/media.js';
import { CRYPTO, FINGERPRINT, request, sdp, trunkRecord } from '../support/fakes.js';

const OFFERS = {
  rtp: sdp(['m=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']),
  sdes: sdp(['m=audio 49170 RTP/SAVP 0', CRYPTO]),
  dtls: sdp(['m=audio 49170 UDP/TLS/RTP/SAVPF 111', FINGERPRINT, 'a=setup:actpass']),
  mixed: sdp(['m=audio 49170 RTP/SAVP 0', CRYPTO, 'm=video 49172 RTP/AVP 96']),
  late: undefined,
  garbage: 'this is not SDP',
} as const;
type Offer = keyof typeof OFFERS;

const trunkWith = (media_encryption: MediaEncryption) => trunkRecord({ id: 't', inbound: { media_encryption } });

describe('checkMedia (media step)', () => {
  it.each<[MediaEncryption, Offer, 'continue' | 'srtp_required' | 'srtp_not_allowed' | 'sdp_invalid']>([
    ['required', 'rtp', 'srtp_required'],
    ['required', 'late', 'srtp_required'],
    ['required', 'mixed', 'srtp_required'],
    ['required', 'sdes', 'continue'],
    ['required', 'dtls', 'continue'],
    ['required', 'garbage', 'sdp_invalid'],
    ['disabled', 'sdes', 'srtp_not_allowed'],
    ['disabled', 'dtls', 'srtp_not_allowed'],
    ['disabled', 'mixed', 'continue'],
    ['disabled', 'rtp', 'continue'],
    ['disabled', 'late', 'continue'],
    ['disabled', 'garbage', 'sdp_invalid'],
    ['allowed', 'rtp', 'continue'],
    ['allowed', 'sdes', 'continue'],
    ['allowed', 'dtls', 'continue'],
    ['allowed', 'mixed', 'continue'],
    ['allowed', 'late', 'continue'],
    ['allowed', 'garbage', 'sdp_invalid'],
  ])('%s + %s offer -> %s', (policy, offer, expected) => {
    const decision = checkMedia(request({ sdp: OFFERS[offer] }), trunkWith(policy));
    if (expected === 'continue') expect(decision.kind).toBe('continue');
    else expect(decision).toMatchObject({ kind: 'reject', reason: expected });
  });

  it('never puts crypto keys into the refusal detail', () => {
    const decision = checkMedia(request({ sdp: OFFERS.sdes }), trunkWith('disabled'));
    expect(decision.kind).toBe('reject');
    expect(JSON.stringify(decision)).not.toContain('inline:');
  });
});
