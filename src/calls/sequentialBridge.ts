import type Srf from 'drachtio-srf';
import type { Logger } from '../observability/logger.js';
import { messageBytes, MessageTooLargeError } from '../domain/messageSize.js';
import { refusalHeaders } from '../sip/replies.js';
import { createB2BUA, emitting, type B2BUAOptions, type CancellableRequest } from '../types/drachtio.js';
import type { CallMedia } from '../media/callMedia.js';
import type { LegMode } from '../media/policy.js';
import { classifyError, failureReason, statusForCaller, type CalledParty, type FailureKind } from './classify.js';
import { attachDialogs, confirmLegs, type ReferHandler } from './dialogs.js';
import { timerHeadersForCallee, type SessionTimerSettings } from '../domain/sessionTimer.js';
import { callerTimerResponse } from './sessionTimers.js';
import type { CallSession } from './session.js';

export type BridgeOutcome = 'answered' | 'failed' | 'cancelled';

/** One place to try: an agent, the voicemail service, a carrier termination URI. */
export interface Attempt {
  readonly label: string;
  /** who is called: names the failure reason the caller gets */
  readonly party: CalledParty;
  /** tried only when the attempt before it could not reach its target (the UDP retry of a TCP attempt) */
  readonly onlyIfUnreachable?: boolean;
  readonly uri: string;
  readonly options: B2BUAOptions;
  /** the media policy of the leg this attempt places (used when the media anchor is on) */
  readonly legMode?: LegMode;
}

export interface SequentialSettings {
  readonly ringTimeoutMs: number;
  readonly maxCallDurationMs: number;
  /** Whether a failed attempt may move on to the next one; earlyMedia: the failed leg had sent SDP in a 18x. */
  readonly failsOver: (failure: FailureKind, context: { earlyMedia: boolean }) => boolean;
  /** which leg is the agent: the B leg (uac) inbound, the A leg (uas) outbound */
  readonly agentLeg: 'uas' | 'uac';
  readonly onRefer?: ReferHandler;
  /** the call's anchored media; absent with media.anchor off (SDP relayed as it comes) */
  readonly media?: CallMedia;
  /** largest message handed to drachtio-server (sip.max_message_bytes) */
  readonly maxMessageBytes: number;
  /** Retry-After seconds on a 503 the caller gets */
  readonly retryAfterS: number;
  /** session timers on both legs (RFC 4028); absent: none asked for or granted */
  readonly sessionTimer?: SessionTimerSettings;
}

/**
 * The answer the caller gets, as the called leg sent it, when it fits what drachtio-server takes;
 * an early-media SDP too large is left out of the 18x, a final one fails the attempt.
 */
/**
 * The Contact of the edge's provisional answers to the caller (RFC 3261 12.1.1: an 18x that
 * makes an early dialog carries one); drachtio-server adds its own to final answers only.
 */
export function provisionalContact(req: Srf.SrfRequest): (res: { status: number }) => Record<string, string> {
  const on = (req as unknown as { receivedOn?: string }).receivedOn;
  // drachtio-srf reports ws and wss as "tcp"; the caller's top Via names them (a browser's)
  const ws = /^\s*SIP\/2\.0\/(WSS?)\s/i.exec(req.get('Via') ?? '')?.[1]?.toLowerCase();
  const transport = ws ?? String(req.protocol ?? 'udp').toLowerCase();
  const contact = on ? `<${transport === 'tls' ? 'sips' : 'sip'}:${on}${transport === 'udp' || transport === 'tls' ? '' : `;transport=${transport}`}>` : null;
  return (res): Record<string, string> => (contact && res.status < 200 ? { Contact: contact } : {});
}

export function answerForCaller(maxBytes: number): (sdp: string, res: { status: number }) => string {
  return (sdp, res) => {
    const bytes = messageBytes(undefined, sdp);
    if (bytes <= maxBytes) return sdp;
    if (res.status < 200) return '';
    throw new MessageTooLargeError(bytes, maxBytes);
  };
}

/**
 * Bridges a call to the first attempt that answers, one after the other, each with a ring
 * timeout. A CANCEL from the caller cancels whichever leg is ringing and ends the attempts;
 * when every attempt failed, the caller gets the last failure's status.
 */
export async function bridgeSequentially(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  attempts: readonly Attempt[],
  session: CallSession,
  settings: SequentialSettings,
  log: Logger,
): Promise<BridgeOutcome> {
  let cancelled = false;
  let ringingReq: CancellableRequest | null = null;
  const caller = emitting(req);
  const b2bua = createB2BUA(srf);
  const onCancel = (): void => {
    cancelled = true;
    if (!ringingReq) {
      // Between attempts: nobody to CANCEL downstream, answer the INVITE ourselves.
      if (!res.finalResponseSent) res.send(487);
      session.end('cancelled', 487);
    }
  };

  let last: FailureKind = { kind: 'internal' };
  let lastParty: CalledParty = attempts[0]?.party ?? 'agent';
  for (const [index, attempt] of attempts.entries()) {
    if (cancelled) break;
    if (attempt.onlyIfUnreachable && (index === 0 || last.kind !== 'unreachable')) continue;
    let timedOut = false;
    let earlyMedia = false;
    let timer: NodeJS.Timeout | undefined;
    // createB2BUA adds its own CANCEL listener per attempt; ours must stay the only one between attempts.
    caller.removeAllListeners('cancel');
    caller.on('cancel', onCancel);
    try {
      // the offer this attempt carries: the caller's SDP (the SDP part of a multipart body), or
      // the anchor's offer for this leg when the media is anchored
      const offer = typeof attempt.options.localSdpB === 'string' ? attempt.options.localSdpB : undefined;
      const anchored = await settings.media?.attempt(offer, attempt.legMode ?? 'rtp', settings.agentLeg === 'uac' ? 'agent' : 'carrier');
      const fitting = answerForCaller(settings.maxMessageBytes);
      const viaAnchor = anchored?.localSdpA;
      const localSdpA = viaAnchor
        ? async (sdp: string, res: { status: number }) => fitting(await viaAnchor(sdp, res as never), res)
        : fitting;
      const contact = provisionalContact(req);
      const timers = settings.sessionTimer ? callerTimerResponse(req, settings.sessionTimer) : () => ({});
      const headers = { ...attempt.options.headers, ...(settings.sessionTimer ? timerHeadersForCallee(settings.sessionTimer) : {}) };
      const responseHeaders = (uacRes: { status: number }): Record<string, string> => ({ ...contact(uacRes), ...timers(uacRes) });
      const { uas, uac } = await b2bua(req, res, attempt.uri, { ...attempt.options, headers, ...anchored, localSdpA, passFailure: false, proxyRequestHeaders: [], responseHeaders: responseHeaders as never }, {
        cbRequest: (_err, uacReq) => {
          ringingReq = uacReq;
          timer = setTimeout(() => {
            timedOut = true;
            uacReq.cancel(() => undefined);
          }, settings.ringTimeoutMs);
        },
        cbProvisional: (provisional) => {
          session.ringing();
          if (provisional.body) earlyMedia = true;
        },
      });
      clearTimeout(timer);
      ringingReq = null;
      if (cancelled) {
        uas.destroy();
        uac.destroy();
        session.end('cancelled', 487);
        return 'cancelled';
      }
      session.answered();
      log.info({ target: attempt.label, uri: attempt.uri }, 'call answered');
      attachDialogs(uas, uac, session, { agentLeg: settings.agentLeg, maxDurationMs: settings.maxCallDurationMs, maxMessageBytes: settings.maxMessageBytes, ...(settings.onRefer ? { onRefer: settings.onRefer } : {}), ...(settings.media ? { media: settings.media } : {}) }, log);
      confirmLegs(uas, uac, session);
      return 'answered';
    } catch (err) {
      clearTimeout(timer);
      ringingReq = null;
      last = classifyError(err, { timedOut, cancelled });
      lastParty = attempt.party;
      log.info({ target: attempt.label, failure: last, earlyMedia }, 'attempt failed');
      if (last.kind === 'cancelled') break;
      const next = attempts[index + 1];
      if (!next) break;
      if (next.onlyIfUnreachable && last.kind === 'unreachable') continue;
      if (!settings.failsOver(last, { earlyMedia })) break;
    }
  }

  const status = statusForCaller(last);
  if (!res.finalResponseSent) {
    const reason = failureReason(last, lastParty);
    res.send(status, { headers: refusalHeaders(reason, settings.retryAfterS, {}, status) });
    log.info({ reason, status }, 'call failed');
  }
  const cancelledCall = last.kind === 'cancelled' || cancelled;
  session.end(cancelledCall ? 'cancelled' : 'failed', status);
  return cancelledCall ? 'cancelled' : 'failed';
}
