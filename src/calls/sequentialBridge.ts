import type Srf from 'drachtio-srf';
import type { Logger } from '../observability/logger.js';
import { createB2BUA, emitting, type B2BUAOptions, type CancellableRequest } from '../types/drachtio.js';
import type { CallMedia } from '../media/callMedia.js';
import type { LegMode } from '../media/policy.js';
import { classifyError, failureHeaders, statusForCaller, type FailureKind } from './classify.js';
import { attachDialogs, type ReferHandler } from './dialogs.js';
import type { CallSession } from './session.js';

export type BridgeOutcome = 'answered' | 'failed' | 'cancelled';

/** One place to try: an agent, the voicemail service, a carrier termination URI. */
export interface Attempt {
  readonly label: string;
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
  readonly retryAfterS?: number;
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
  for (const [index, attempt] of attempts.entries()) {
    if (cancelled) break;
    let timedOut = false;
    let earlyMedia = false;
    let timer: NodeJS.Timeout | undefined;
    // createB2BUA adds its own CANCEL listener per attempt; ours must stay the only one between attempts.
    caller.removeAllListeners('cancel');
    caller.on('cancel', onCancel);
    try {
      const sdp = await settings.media?.attempt(req.body, attempt.legMode ?? 'rtp', settings.agentLeg === 'uac' ? 'agent' : 'carrier');
      const { uas, uac } = await b2bua(req, res, attempt.uri, { ...attempt.options, ...sdp, passFailure: false, proxyRequestHeaders: [] }, {
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
      attachDialogs(uas, uac, session, { agentLeg: settings.agentLeg, maxDurationMs: settings.maxCallDurationMs, ...(settings.onRefer ? { onRefer: settings.onRefer } : {}), ...(settings.media ? { media: settings.media } : {}) }, log);
      return 'answered';
    } catch (err) {
      clearTimeout(timer);
      ringingReq = null;
      last = classifyError(err, { timedOut, cancelled });
      log.info({ target: attempt.label, failure: last, earlyMedia }, 'attempt failed');
      if (last.kind === 'cancelled') break;
      const hasNext = index < attempts.length - 1;
      if (!hasNext || !settings.failsOver(last, { earlyMedia })) break;
    }
  }

  const status = statusForCaller(last);
  const headers = failureHeaders(last, settings.retryAfterS ?? 5);
  if (!res.finalResponseSent) res.send(status, headers ? { headers } : undefined);
  const cancelledCall = last.kind === 'cancelled' || cancelled;
  session.end(cancelledCall ? 'cancelled' : 'failed', status);
  return cancelledCall ? 'cancelled' : 'failed';
}
