import type Srf from 'drachtio-srf';
import { refusalHeaders } from '../sip/replies.js';
import type { Logger } from '../observability/logger.js';
import { MediaPolicyError } from './anchor.js';
import type { CallMedia, Side } from './callMedia.js';

/** Dialogs emit 'ack' (with the ACK request) at run time; the bundled types do not say so. */
type AckEmitter = { once(event: 'ack', listener: (ack: Srf.SrfRequest) => void): unknown };

function failed(res: Srf.SrfResponse, err: unknown, log: Logger, what: string): void {
  const status = (err as { status?: number }).status;
  if (typeof status === 'number') {
    res.send(status);
    return;
  }
  const reason = err instanceof MediaPolicyError ? 'media_encryption_mismatch' : 'media_unavailable';
  log.info({ err: { message: (err as Error).message }, reason }, `${what} refused`);
  res.send(reason === 'media_encryption_mismatch' ? 488 : 503, { headers: refusalHeaders(reason, 5) });
}

/**
 * A re-INVITE on one leg of an anchored call (hold, resume, codec change, SDP-less refresh): the
 * offer goes through the anchor to the other leg, the answer back through it. A leg whose SDP
 * breaks its media policy gets 488 with the reason; an anchor that does not answer, 503.
 */
export function anchoredReinvite(media: CallMedia, side: Side, leg: Srf.Dialog, other: Srf.Dialog, log: Logger) {
  return (req: Srf.SrfRequest, res: Srf.SrfResponse): void => {
    media
      .renegotiate(side, req.body || undefined, {
        send: (sdp) => other.modify(sdp) as Promise<string>,
        peerSdp: other.remote.sdp,
        ack: () => new Promise((resolve) => (leg as unknown as AckEmitter).once('ack', (ack) => resolve(ack.body || undefined))),
      })
      .then((sdp) => res.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }))
      .catch((err: unknown) => failed(res, err, log, 're-INVITE'));
  };
}

/** An UPDATE with SDP on one leg of an anchored call, through the anchor like a re-INVITE. */
export function anchoredUpdate(media: CallMedia, side: Side, other: Srf.Dialog, headers: (req: Srf.SrfRequest) => Record<string, string>, log: Logger) {
  return (req: Srf.SrfRequest, res: Srf.SrfResponse): void => {
    media
      .renegotiate(side, req.body, {
        send: async (sdp) => {
          const answer = (await other.request({ method: 'UPDATE', headers: headers(req), body: sdp } as unknown as Srf.SrfRequest)) as unknown as Srf.SrfResponse;
          if (answer.status !== 200 || !answer.body) throw Object.assign(new Error(`UPDATE answered ${answer.status}`), { status: answer.status >= 300 ? answer.status : 500 });
          return answer.body;
        },
        peerSdp: other.remote.sdp,
        ack: async () => undefined,
      })
      .then((sdp) => res.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }))
      .catch((err: unknown) => failed(res, err, log, 'UPDATE'));
  };
}
