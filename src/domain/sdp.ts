import { parse } from 'sdp-transform';

/**
 * What an SDP offer proposes for media security, from its active audio/video m-lines:
 * - srtp: every active m-line is secure (SAVP/SAVPF with a=crypto, or DTLS with a fingerprint)
 * - mixed: some secure, some plain (or best-effort offers that carry both)
 * - rtp: no secure m-line
 * - none: no SDP (late offer) or no active media
 */
export type MediaOffer = 'srtp' | 'mixed' | 'rtp' | 'none';

export class SdpError extends Error {}

const SECURE_PROTOS = /(^|\/)(SAVP|SAVPF)$/;

export function classifyOffer(sdp: string | undefined | null): MediaOffer {
  if (!sdp || sdp.trim() === '') return 'none';
  let session;
  try {
    session = parse(sdp);
  } catch (err) {
    throw new SdpError(`unparsable SDP: ${(err as Error).message}`);
  }
  if (!Array.isArray(session.media) || session.media.length === 0) {
    if (!/^v=0/m.test(sdp)) throw new SdpError('not an SDP body');
    return 'none';
  }
  const sessionFingerprint = Boolean(session.fingerprint);
  let secure = 0;
  let plain = 0;
  for (const m of session.media) {
    if (!m.type || typeof m.port !== 'number' || Number.isNaN(m.port) || !m.protocol) {
      throw new SdpError('unreadable m= line');
    }
    if (m.port === 0 || (m.type !== 'audio' && m.type !== 'video')) continue;
    const proto = String(m.protocol ?? '');
    const isDtls = proto.includes('TLS') && (Boolean(m.fingerprint) || sessionFingerprint);
    const isSdes = SECURE_PROTOS.test(proto) && !proto.includes('TLS') && (m.crypto?.length ?? 0) > 0;
    if (isDtls || isSdes) secure++;
    else plain++;
  }
  if (secure === 0 && plain === 0) return 'none';
  if (secure > 0 && plain > 0) return 'mixed';
  return secure > 0 ? 'srtp' : 'rtp';
}
