import { describe, expect, it } from 'vitest';
import type { MediaEncryption } from '../../../src/domain/model.js';
import { rejectSpec } from '../../../src/pipeline/reasons.js';
import { checkMedia, sdpOfRequest } from '../../../src/pipeline/steps/media.js';
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

describe('media step with multipart bodies (SDP beside ISUP)', () => {
  const ISUP = '\x01\x00\x49\x00\x00\x03\x02\x00\x07';
  const multipart = (boundary: string, ...parts: string[]) => [...parts.map((p) => `--${boundary}\r\n${p}`), `--${boundary}--\r\n`].join('\r\n');
  const sdpPart = (offer: string) => `Content-Type: application/sdp\r\n\r\n${offer}`;
  const isupPart = `Content-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n${ISUP}`;
  const mixed = (...parts: string[]) => request({ body: { contentType: 'multipart/mixed;boundary=xyz', text: multipart('xyz', ...parts) } });

  it.each<[MediaEncryption, Offer, 'continue' | 'srtp_required' | 'srtp_not_allowed' | 'sdp_invalid']>([
    ['required', 'sdes', 'continue'],
    ['required', 'rtp', 'srtp_required'],
    ['disabled', 'sdes', 'srtp_not_allowed'],
    ['allowed', 'rtp', 'continue'],
    ['allowed', 'garbage', 'sdp_invalid'],
  ])('judges the SDP part: %s + %s -> %s', (policy, offer, expected) => {
    const decision = checkMedia(mixed(sdpPart(OFFERS[offer]!), isupPart), trunkWith(policy));
    if (expected === 'continue') expect(decision).toEqual({ kind: 'continue', value: { offer: offer === 'sdes' ? 'srtp' : offer, sdp: OFFERS[offer] } });
    else expect(decision).toMatchObject({ kind: 'reject', reason: expected });
  });

  it.each<[string, ReturnType<typeof request>, string, number, Record<string, string> | undefined]>([
    ['no SDP part', mixed(isupPart), 'sdp_part_missing', 488, undefined],
    ['no boundary', request({ body: { contentType: 'multipart/mixed', text: multipart('xyz', sdpPart(OFFERS.rtp)) } }), 'body_malformed', 400, undefined],
    ['an unknown body type', request({ body: { contentType: 'application/isup', text: ISUP } }), 'body_unsupported', 415, { Accept: 'application/sdp, multipart/*' }],
  ])('refuses %s with a stable reason', (_name, req, reason, status, headers) => {
    const decision = checkMedia(req, trunkWith('allowed'));
    expect(decision).toMatchObject({ kind: 'reject', reason });
    expect(decision.kind === 'reject' ? decision.headers : null).toEqual(headers);
    expect(rejectSpec(decision.kind !== 'continue' ? decision.reason : 'sdp_invalid').status).toBe(status);
  });

  it('gives the SDP alone for bridging, nothing of the ISUP', () => {
    const sdp = sdpOfRequest(mixed(isupPart, sdpPart(OFFERS.rtp)));
    expect(sdp).toEqual({ kind: 'continue', value: OFFERS.rtp });
  });

  it('gives undefined for a late offer', () => {
    expect(sdpOfRequest(request({ sdp: undefined }))).toEqual({ kind: 'continue', value: undefined });
  });
});
