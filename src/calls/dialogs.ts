import type Srf from 'drachtio-srf';
import type { CallMedia } from '../media/callMedia.js';
import { anchoredReinvite, anchoredUpdate } from '../media/inDialog.js';
import type { Logger } from '../observability/logger.js';
import type { CallSession } from './session.js';

/** Methods relayed as-is from one leg to the other inside an established call. */
const RELAYED = ['info', 'notify', 'message', 'options'] as const;
const NOT_COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'contact', 'route', 'record-route']);

function relayHeaders(req: Srf.SrfRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (!NOT_COPIED.has(name.toLowerCase())) out[name] = value;
  return out;
}

/**
 * In-dialog handling of a bridged call: BYE on either leg ends both, re-INVITE and UPDATE pass
 * through with their SDP, INFO/NOTIFY/MESSAGE/OPTIONS are relayed, and the max call duration
 * ends both legs with BYE.
 */
/** A REFER from the agent's leg: (the agent's dialog, the other party's dialog, request, response). */
export type ReferHandler = (agentLeg: Srf.Dialog, otherLeg: Srf.Dialog, req: Srf.SrfRequest, res: Srf.SrfResponse) => void;

export interface DialogOptions {
  /** which leg is the AI agent (its REFERs are transfers; REFER from the other side is refused) */
  readonly agentLeg: 'uas' | 'uac';
  readonly onRefer?: ReferHandler;
  /** ms until the call is ended with BYE; undefined = no limit of its own (a transferred leg keeps the original's) */
  readonly maxDurationMs?: number;
  /** the call's anchored media: SDP of re-INVITE/UPDATE goes through it, its watchdog ends dead calls */
  readonly media?: CallMedia;
}

export function attachDialogs(uas: Srf.Dialog, uac: Srf.Dialog, session: CallSession, options: DialogOptions, log: Logger): void {
  const legs: [Srf.Dialog, Srf.Dialog, 'caller_hangup' | 'callee_hangup'][] = [
    [uas, uac, 'caller_hangup'],
    [uac, uas, 'callee_hangup'],
  ];
  session.setHangup(() => hangUp(uas, uac));
  const { maxDurationMs } = options;
  if (maxDurationMs !== undefined) {
    const limit = setTimeout(() => {
      log.info({ maxDurationMs }, 'max call duration reached');
      void session.terminate('max_duration');
    }, maxDurationMs);
    limit.unref();
    session.onEnd(() => clearTimeout(limit));
  }
  const agent = options.agentLeg === 'uas' ? uas : uac;
  agent.on('refer', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
    if (options.onRefer) options.onRefer(agent, agent === uas ? uac : uas, req, res);
    else res.send(403, 'Transfer Not Allowed', {});
  });
  (agent === uas ? uac : uas).on('refer', (_req: Srf.SrfRequest, res: Srf.SrfResponse) => res.send(403, 'Transfer Not Allowed', {}));

  const { media } = options;
  media?.bridged((lastMediaAt) => void session.terminate('media_timeout', { endedAt: lastMediaAt }));
  for (const [leg, other, cause] of legs) {
    leg.on('destroy', () => {
      // anchored: the media figures are read before the call ends
      if (media) void session.finish(cause).then((ended) => ended && destroyQuietly(other));
      else if (session.end(cause)) other.destroy();
    });
    if (media) {
      const side = leg === uas ? 'a' : 'b';
      leg.on('modify', anchoredReinvite(media, side, leg, other, log));
      leg.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) =>
        req.body ? anchoredUpdate(media, side, other, relayHeaders, log)(req, res) : relayUpdate(other, req, res));
    }
    if (!media) leg.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      other
        .modify(req.body)
        .then((sdp: string) => res.send(200, { body: sdp }))
        .catch((err: { status?: number }) => res.send(err.status ?? 500));
    });
    if (!media) leg.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) => relayUpdate(other, req, res));
    for (const method of RELAYED) {
      leg.on(method as 'info', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
        other
          .request({ method: method.toUpperCase(), headers: relayHeaders(req), body: req.body } as unknown as Srf.SrfRequest)
          .then((answer: Srf.SrfResponse) => res.send(answer.status, { body: answer.body }))
          .catch(() => res.send(500));
      });
    }
  }
}

/** BYE to a leg that may have hung up meanwhile (an anchored end reads the media figures first). */
function destroyQuietly(leg: Srf.Dialog): void {
  if ((leg as { connected?: boolean }).connected === false) return;
  Promise.resolve(leg.destroy()).catch(() => undefined);
}

function relayUpdate(other: Srf.Dialog, req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  other
    .request({ method: 'UPDATE', headers: relayHeaders(req), body: req.body } as unknown as Srf.SrfRequest)
    .then((answer: Srf.SrfResponse) => res.send(answer.status, { body: answer.body }))
    .catch(() => res.send(500));
}

/** Removes the edge's handlers from a dialog (before it is re-paired by a transfer). */
export function detachDialog(leg: Srf.Dialog): void {
  for (const event of ['destroy', 'modify', 'update', 'refer', ...RELAYED]) leg.removeAllListeners(event);
}

/** Ends both legs of a call with BYE (drain timeout, max duration); resolves when both are sent. */
export async function hangUp(uas: Srf.Dialog, uac: Srf.Dialog): Promise<void> {
  const bye = (leg: Srf.Dialog): Promise<unknown> =>
    new Promise((resolve) => leg.destroy(undefined, () => resolve(undefined)));
  await Promise.all([bye(uas), bye(uac)]);
}
