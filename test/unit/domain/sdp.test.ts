import { describe, expect, it } from 'vitest';
import { classifyOffer, SdpError, type MediaOffer } from '../../../src/domain/sdp.js';
import { CRYPTO, FINGERPRINT, sdp } from '../support/fakes.js';

const audio = (proto: string, port = 49170) => `m=audio ${port} ${proto} 0`;
const video = (proto: string, port = 49172) => `m=video ${port} ${proto} 96`;

describe('classifyOffer', () => {
  it.each<[string, string | undefined | null, MediaOffer]>([
    ['plain RTP/AVP', sdp([audio('RTP/AVP'), 'a=rtpmap:0 PCMU/8000']), 'rtp'],
    ['RTP/SAVP with a=crypto', sdp([audio('RTP/SAVP'), CRYPTO]), 'srtp'],
    ['RTP/SAVPF with a=crypto', sdp([audio('RTP/SAVPF'), CRYPTO]), 'srtp'],
    ['RTP/SAVP without a=crypto', sdp([audio('RTP/SAVP')]), 'rtp'],
    ['RTP/AVP with a=crypto (no secure profile)', sdp([audio('RTP/AVP'), CRYPTO]), 'rtp'],
    ['DTLS-SRTP, fingerprint at media level', sdp([audio('UDP/TLS/RTP/SAVPF'), FINGERPRINT, 'a=setup:actpass']), 'srtp'],
    ['DTLS-SRTP, fingerprint at session level', sdp([audio('UDP/TLS/RTP/SAVPF'), 'a=setup:actpass'], [FINGERPRINT]), 'srtp'],
    ['DTLS profile without any fingerprint', sdp([audio('UDP/TLS/RTP/SAVPF')]), 'rtp'],
    ['audio SRTP + video RTP', sdp([audio('RTP/SAVP'), CRYPTO, video('RTP/AVP')]), 'mixed'],
    ['audio RTP + audio SRTP (best effort, both offered)', sdp([audio('RTP/AVP'), audio('RTP/SAVP', 49180), CRYPTO]), 'mixed'],
    ['audio SRTP + video SRTP', sdp([audio('RTP/SAVP'), CRYPTO, video('RTP/SAVP'), CRYPTO]), 'srtp'],
    ['audio SRTP + disabled RTP video (port 0)', sdp([audio('RTP/SAVP'), CRYPTO, video('RTP/AVP', 0)]), 'srtp'],
    ['audio RTP + disabled SRTP video (port 0)', sdp([audio('RTP/AVP'), video('RTP/SAVP', 0), CRYPTO]), 'rtp'],
    ['only a disabled m-line', sdp([audio('RTP/AVP', 0)]), 'none'],
    ['audio SRTP + plain application m-line', sdp([audio('RTP/SAVP'), CRYPTO, 'm=application 5000 UDP/BFCP *']), 'srtp'],
    ['session without m-lines', sdp([]), 'none'],
    ['late offer: undefined', undefined, 'none'],
    ['late offer: null', null, 'none'],
    ['late offer: empty body', '', 'none'],
    ['late offer: whitespace', '\r\n', 'none'],
  ])('%s -> %s', (_name, body, expected) => {
    expect(classifyOffer(body)).toBe(expected);
  });

  it.each([
    ['plain text', 'hello world'],
    ['JSON', '{"sdp": true}'],
    ['an unreadable m-line', 'v=0\r\no=- 1 0 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nm=garbage\r\n'],
  ])('%s is an SdpError', (_name, body) => {
    expect(() => classifyOffer(body)).toThrow(SdpError);
  });
});
