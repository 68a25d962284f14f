import { describe, expect, it } from 'vitest';
import { AGENT_MEDIA_ENCRYPTION, MEDIA_ENCRYPTION } from '../../../src/domain/model.js';
import { agentLegMode, answerParams, carrierLegMode, directionOf, keepsTo, LEG_MEDIA, offerParams, withoutIdentity, type LegMode } from '../../../src/media/policy.js';

const sdp = (proto: string, extra: string[] = []) =>
  ['v=0', 'o=pbx-7 1 1 IN IP4 10.0.0.7', 's=-', 'c=IN IP4 10.0.0.7', 't=0 0', `m=audio 4000 ${proto} 0`, 'a=rtpmap:0 PCMU/8000', ...extra, ''].join('\r\n');
const RTP = sdp('RTP/AVP');
const SDES = sdp('RTP/SAVP', ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz']);
const DTLS = sdp('UDP/TLS/RTP/SAVP', ['a=fingerprint:sha-256 AA:BB', 'a=setup:actpass']);
const WEBRTC = sdp('UDP/TLS/RTP/SAVPF', ['a=fingerprint:sha-256 AA:BB', 'a=setup:actpass', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef0123456789', 'a=rtcp-mux']);

describe('LEG_MEDIA (the per-leg media policy table)', () => {
  // what each row must take from its leg, and what it must refuse
  const expected: Record<LegMode, { takes: string[]; refuses: string[]; offers: string }> = {
    rtp: { takes: [RTP], refuses: [SDES, DTLS], offers: 'RTP/AVP' },
    open: { takes: [RTP, SDES, DTLS], refuses: [], offers: 'RTP/AVP' },
    sdes: { takes: [SDES, DTLS], refuses: [RTP], offers: 'RTP/SAVP' },
    dtls: { takes: [SDES, DTLS], refuses: [RTP], offers: 'UDP/TLS/RTP/SAVP' },
    webrtc: { takes: [WEBRTC, DTLS], refuses: [RTP], offers: 'UDP/TLS/RTP/SAVPF' },
  };

  it.each(Object.keys(LEG_MEDIA) as LegMode[])('%s: offers its protocol, takes what keeps to it, refuses the rest', (mode) => {
    const row = LEG_MEDIA[mode];
    expect(row.offer['transport-protocol']).toBe(expected[mode].offers);
    for (const s of expected[mode].takes) expect(keepsTo(mode, s)).toEqual({ ok: true });
    for (const s of expected[mode].refuses) expect(keepsTo(mode, s).ok).toBe(false);
    // an SDP without active media has nothing to break
    expect(keepsTo(mode, '')).toEqual({ ok: true });
    // unreadable SDP never keeps to a policy
    expect(keepsTo(mode, 'v=0\r\nm=audio x')).toEqual({ ok: false, got: 'unreadable' });
  });

  it('never offers NULL or F8 suites to an SDES leg, and no SDES to a plain or DTLS leg', () => {
    expect(LEG_MEDIA.sdes.offer.SDES).toEqual(expect.arrayContaining(['no-NULL_HMAC_SHA1_80', 'no-NULL_HMAC_SHA1_32', 'no-F8_128_HMAC_SHA1_80']));
    for (const mode of ['rtp', 'open', 'dtls', 'webrtc'] as const) expect(LEG_MEDIA[mode].offer.SDES).toEqual(['off']);
  });

  it('does ICE and rtcp-mux on a browser leg only', () => {
    expect(LEG_MEDIA.webrtc.offer).toMatchObject({ ICE: 'force', 'rtcp-mux': ['offer', 'require'] });
    for (const mode of ['rtp', 'open', 'sdes', 'dtls'] as const) expect(LEG_MEDIA[mode].offer.ICE).toBe('remove');
  });

  it('offers onward from a browser without rtcp-mux and header extensions, with PCMU/PCMA to transcode to', () => {
    for (const to of ['rtp', 'sdes', 'dtls'] as const) {
      const params = offerParams('webrtc', to);
      // the agent leg's own row decides protocol, ICE and keys
      expect(params['transport-protocol']).toBe(LEG_MEDIA[to].offer['transport-protocol']);
      expect(params.ICE).toBe('remove');
      expect(params).toMatchObject({ 'rtcp-mux': ['demux'], flags: ['strip-extmap'], codec: { transcode: ['PCMU', 'PCMA'] } });
    }
    // between SIP legs nothing is added
    expect(offerParams('sdes', 'rtp')).toEqual(LEG_MEDIA.rtp.offer);
    expect(offerParams('rtp', 'webrtc')).toEqual(LEG_MEDIA.webrtc.offer);
  });

  it('answers a browser with rtcp-mux and ICE; other legs with the anchor defaults', () => {
    expect(answerParams('webrtc')).toEqual({ 'rtcp-mux': ['accept'], ICE: 'force' });
    for (const mode of ['rtp', 'open', 'sdes', 'dtls'] as const) expect(answerParams(mode)).toEqual({});
  });

  it('maps every trunk and agent encryption setting to a row', () => {
    expect(MEDIA_ENCRYPTION.map(carrierLegMode)).toEqual(['rtp', 'open', 'sdes']);
    expect(AGENT_MEDIA_ENCRYPTION.map(agentLegMode)).toEqual(['rtp', 'sdes', 'dtls']);
  });
});

describe('withoutIdentity', () => {
  it('drops SSRC/msid lines and the origin user name, keeps the media and the keys the anchor needs', () => {
    const out = withoutIdentity(sdp('RTP/SAVP', ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY', 'a=ssrc:1 cname:sip:bob@10.0.0.7', 'a=msid:stream track']));
    expect(out).not.toMatch(/a=ssrc|a=msid|pbx-7|bob@/);
    expect(out).toMatch(/^o=- 1 1 IN IP4 10\.0\.0\.7/m);
    expect(out).toContain('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY');
    expect(out).toContain('m=audio 4000 RTP/SAVP 0');
  });
});

describe('directionOf', () => {
  it.each([
    [sdp('RTP/AVP', ['a=sendonly']), 'sendonly'],
    [sdp('RTP/AVP', ['a=recvonly']), 'recvonly'],
    [sdp('RTP/AVP', ['a=inactive']), 'inactive'],
    [RTP, 'sendrecv'],
    [RTP.replace(/c=IN IP4 10\.0\.0\.7/, 'c=IN IP4 0.0.0.0'), 'inactive'],
    [undefined, 'sendrecv'],
  ])('%#: %s', (s, dir) => {
    expect(directionOf(s)).toBe(dir);
  });
});
