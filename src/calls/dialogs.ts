import type Srf from 'drachtio-srf';
import type { CallMedia } from '../media/callMedia.js';
import { anchoredReinvite, anchoredUpdate } from '../media/inDialog.js';
import type { Logger } from '../observability/logger.js';
import { fits, messageBytes } from '../domain/messageSize.js';
import { refusalHeaders } from '../sip/replies.js';
import { dialogConnected, releaseRequests } from '../types/drachtio.js';
import { relayedHeaders, type RelayDirection } from './headerPolicy.js';
import type { CallSession } from './session.js';
import type { EndCause } from './lifecycle.js';
import { endedBySessionTimer } from '../domain/sessionTimer.js';
import { reofferLocally } from './reoffer.js';

/** Methods relayed as-is from one leg to the other inside an established call. */
const RELAYED = ['info', 'notify', 'message', 'options'] as const;

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
  /** largest message handed to drachtio-server: a larger request is answered 513, a larger answer 500 */
  readonly maxMessageBytes: number;
  /** the call's anchored media: SDP of re-INVITE/UPDATE goes through it, its watchdog ends dead calls */
  readonly media?: CallMedia;
}

export function attachDialogs(uas: Srf.Dialog, uac: Srf.Dialog, session: CallSession, options: DialogOptions, log: Logger): void {
  const legs: [Srf.Dialog, Srf.Dialog, 'caller_hangup' | 'callee_hangup'][] = [
    [uas, uac, 'caller_hangup'],
    [uac, uas, 'callee_hangup'],
  ];
  session.setHangup(() => hangUp(uas, uac));
  session.setLegs(uas, uac);
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

  const max = options.maxMessageBytes;
  /** 513 to the sender when what it sent would be too large to pass on (see domain/messageSize.ts) */
  const tooLarge = (headers: Record<string, string> | undefined, body: string | undefined, res: Srf.SrfResponse): boolean => {
    if (fits(headers, body, max)) return false;
    res.send(513, 'Message Too Large', { headers: refusalHeaders('message_too_large', 0) });
    log.info({ bytes: messageBytes(headers, body), max }, 'in-dialog request too large to pass on');
    return true;
  };
  const { media } = options;
  media?.bridged((lastMediaAt) => void session.terminate('media_timeout', { endedAt: lastMediaAt }));
  // the last proof of life of each leg (a request from it, or its answer to one of ours): a leg
  // that ends for want of a session refresh is billed up to here, not up to drachtio's BYE
  const alive = new Map<Srf.Dialog, number>([[uas, Date.now()], [uac, Date.now()]]);
  const seen = (leg: Srf.Dialog): void => void alive.set(leg, Date.now());
  // what each leg last offered or answered (drachtio-srf overwrites remote.sdp with an empty re-INVITE body)
  const remote = new Map<Srf.Dialog, { sdp: string | undefined }>([[uas, { sdp: uas.remote.sdp }], [uac, { sdp: uac.remote.sdp }]]);
  for (const [leg, other, cause] of legs) {
    // what crosses to `other` is what the dialog header policy allows, requests and answers alike
    const toward: RelayDirection = other === agent ? 'to_agent' : 'to_carrier';
    const relayHeaders = (req: Srf.SrfRequest): Record<string, string> => relayedHeaders(req.method, toward, req.headers);
    /** the other leg's answer, relayed when it fits; a 500 with the reason otherwise */
    const relayAnswer = (res: Srf.SrfResponse, answer: Srf.SrfResponse): void => {
      const headers = relayedHeaders('response', toward === 'to_agent' ? 'to_carrier' : 'to_agent', (answer as unknown as { headers: Record<string, string> }).headers ?? {});
      if (fits(headers, answer.body, max)) res.send(answer.status, { headers, body: answer.body });
      else res.send(500, { headers: refusalHeaders('agent_answer_too_large', 0) });
    };
    leg.on('destroy', (_req: Srf.SrfRequest, reason?: string) => {
      // drachtio-server ended this leg for want of a session refresh: billed to its last proof of life
      const expired = endedBySessionTimer(reason);
      const why: EndCause = expired ? 'session_timer' : cause;
      const detail = expired ? { endedAt: alive.get(leg) ?? Date.now() } : {};
      if (expired) log.info({ leg: leg === uas ? 'caller' : 'callee', lastAliveAt: detail.endedAt }, 'session timer expired');
      // the other leg goes too, also when something else ended the call first;
      // anchored: the media figures are read before the call ends
      if (media) void session.finish(why, detail).then(() => destroyQuietly(other));
      else {
        session.end(why, undefined, detail);
        destroyQuietly(other);
      }
    });
    // a refresh (same session version): drachtio-srf answers it with the current SDP by itself
    leg.on('refresh', () => seen(leg));
    for (const event of ['modify', 'update', 'info', 'notify', 'message', 'options', 'refer']) leg.on(event as 'info', () => seen(leg));
    const relayUpdate = (req: Srf.SrfRequest, res: Srf.SrfResponse): void => {
      const headers = relayHeaders(req);
      if (tooLarge(headers, req.body, res)) return;
      other
        .request({ method: 'UPDATE', headers, body: req.body } as unknown as Srf.SrfRequest)
        .then((answer: Srf.SrfResponse) => relayAnswer(res, answer))
        .catch(() => res.send(500));
    };
    if (media) {
      const side = leg === uas ? 'a' : 'b';
      leg.on('modify', anchoredReinvite(media, side, leg, other, log));
      leg.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) =>
        req.body ? anchoredUpdate(media, side, other, relayHeaders, log)(req, res) : relayUpdate(req, res));
    }
    if (!media) leg.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      if (!req.body) return reofferLocally(leg, other, res, remote.get(leg)!, log);
      if (tooLarge(undefined, req.body, res)) return;
      remote.get(leg)!.sdp = req.body;
      other
        .modify(req.body)
        .then((sdp: string) => {
          if (fits(undefined, sdp, max)) res.send(200, { body: sdp });
          else res.send(500, { headers: refusalHeaders('agent_answer_too_large', 0) });
        })
        .catch((err: { status?: number }) => res.send(err.status ?? 500));
    });
    if (!media) leg.on('update', relayUpdate);
    for (const method of RELAYED) {
      leg.on(method as 'info', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
        const headers = relayHeaders(req);
        if (tooLarge(headers, req.body, res)) return;
        other
          .request({ method: method.toUpperCase(), headers, body: req.body } as unknown as Srf.SrfRequest)
          .then((answer: Srf.SrfResponse) => relayAnswer(res, answer))
          .catch(() => res.send(500));
      });
    }
  }
}

/**
 * Called once the edge listens to both legs: a leg that ended before (or a call ended meanwhile)
 * ends the call now, and requests held since the answer (see AnswerWatch) are let through.
 */
export function confirmLegs(uas: Srf.Dialog, uac: Srf.Dialog, session: CallSession): void {
  if (!dialogConnected(uas) || !dialogConnected(uac) || session.state === 'ended') {
    void session.finish(dialogConnected(uas) ? 'callee_hangup' : 'caller_hangup').then(() => hangUp(uas, uac));
  }
  releaseRequests(uas);
}

/** BYE to a leg that may have hung up meanwhile (an anchored end reads the media figures first). */
function destroyQuietly(leg: Srf.Dialog): void {
  if (!dialogConnected(leg)) return;
  Promise.resolve(leg.destroy()).catch(() => undefined);
}

/** Removes the edge's handlers from a dialog (before it is re-paired by a transfer). */
export function detachDialog(leg: Srf.Dialog): void {
  for (const event of ['destroy', 'modify', 'update', 'refer', ...RELAYED]) leg.removeAllListeners(event);
}

/** Ends both legs of a call with BYE (drain timeout, max duration); resolves when both are sent. */
export async function hangUp(uas: Srf.Dialog, uac: Srf.Dialog): Promise<void> {
  const bye = (leg: Srf.Dialog): Promise<unknown> =>
    dialogConnected(leg) ? new Promise((resolve) => leg.destroy(undefined, () => resolve(undefined))) : Promise.resolve();
  await Promise.all([bye(uas), bye(uac)]);
}
