import type Srf from 'drachtio-srf';
import { parse } from 'sdp-transform';
import type { Logger } from '../observability/logger.js';

/** What a leg's media is: where it receives and what it takes; the o= version and the rest do not count. */
export function mediaOf(sdp: string | undefined): string | null {
  if (!sdp) return null;
  try {
    const s = parse(sdp);
    return JSON.stringify(
      s.media.map((m) => ({
        type: m.type,
        port: m.port,
        protocol: m.protocol,
        address: m.connection?.ip ?? s.connection?.ip,
        payloads: m.payloads,
        direction: m.direction ?? s.direction ?? 'sendrecv',
        crypto: (m.crypto ?? []).map((c) => c.suite),
      })),
    );
  } catch {
    return null;
  }
}

/**
 * A re-INVITE without SDP (RFC 3261 14.2: the answerer must offer): the edge offers the session
 * the leg already has (the SDP it last sent that leg) in its 200, and the leg's answer arrives in
 * its ACK. Only when that answer changes the leg's media does the other leg get a re-INVITE with
 * it; a plain session refresh (some carriers refresh this way) never reaches the other leg, so its
 * media never stops.
 */
export function reofferLocally(
  leg: Srf.Dialog,
  other: Srf.Dialog,
  res: Srf.SrfResponse,
  previous: { sdp: string | undefined },
  log: Logger,
): void {
  const before = mediaOf(previous.sdp);
  (leg as unknown as NodeJS.EventEmitter).once('ack', (ack: Srf.SrfRequest) => {
    const answer = ack.body;
    if (!answer) return;
    previous.sdp = answer;
    if (mediaOf(answer) === before) return;
    log.info('media changed in the answer to a re-INVITE without SDP: re-INVITE of the other leg');
    other.modify(answer).catch((err: unknown) => log.warn({ err }, 're-INVITE after an SDP-less re-INVITE failed'));
  });
  res.send(200, { body: leg.local.sdp, headers: { 'Content-Type': 'application/sdp' } });
}
