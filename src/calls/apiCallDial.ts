import type Srf from 'drachtio-srf';
import { fits } from '../domain/messageSize.js';
import type { Logger } from '../observability/logger.js';
import { checkMediaPolicy } from '../pipeline/steps/media.js';
import type { OutboundPlan } from '../pipeline/types.js';
import { createUAC, isUnacknowledged, type CancellableRequest, type Dialog, type UnacknowledgedAnswer } from '../types/drachtio.js';
import type { ApiCallEndReason } from './apiCallState.js';
import { classifyError, statusForCaller, type FailureKind } from './classify.js';
import { attachDialogs, confirmLegs, hangUp, type ReferHandler } from './dialogs.js';
import type { EndCause } from './lifecycle.js';
import { carrierAttempts, carrierFailsOver } from './outboundBridge.js';
import type { CallSession } from './session.js';

/** Everything needed to place one accepted API call. */
export interface ApiCallLegs {
  readonly plan: OutboundPlan;
  readonly agentUri: string;
  /** X-Workspace-Id ... X-Direction, metadata headers */
  readonly agentHeaders: Readonly<Record<string, string>>;
  readonly destinationRingTimeoutMs: number;
  readonly agentRingTimeoutMs: number;
  readonly maxDurationMs: number;
  readonly maxMessageBytes: number;
  readonly onRefer?: ReferHandler;
}

/** What the dialer reports; `ended` is called once, before the session ends, with the precise reason. */
export interface DialProgress {
  dialing(): void;
  ringing(): void;
  /** the destination answered (billing runs from here) */
  answered(): void;
  /** the agent answered and both legs are bridged */
  bridged(): void;
  ended(reason: ApiCallEndReason, statuses: { sipStatus?: number; agentSipStatus?: number }): void;
}

/** Places the call; resolves once it is bridged or over. Never throws for SIP failures. */
export type ApiCallDialer = (session: CallSession, legs: ApiCallLegs, progress: DialProgress, log: Logger) => Promise<void>;

/** Why a destination leg that never answered failed, for the record and the callbacks. */
export function destinationFailure(failure: FailureKind): ApiCallEndReason {
  switch (failure.kind) {
    case 'timeout':
      return 'no_answer';
    case 'cancelled':
      return 'cancelled';
    case 'unreachable':
      return 'unreachable';
    case 'status':
      if (failure.status === 486 || failure.status === 600) return 'busy';
      if (failure.status === 603) return 'declined';
      if (failure.status === 480 || failure.status === 408 || failure.status === 487) return 'no_answer';
      return 'carrier_failed';
    case 'redis':
    case 'too_large':
    case 'media':
    case 'internal':
      return 'error';
    default: {
      const never: never = failure;
      throw new Error(`unknown failure ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The SIP side of an API call, third-party call control (RFC 3725 flow I) with the edge in the
 * middle: an INVITE without SDP to the destination through the caller ID's trunk (termination
 * URIs in priority order, digest credentials, failover as for an agent's call); its 200 carries
 * the offer, which the edge checks against the trunk's media policy and offers to the agent; the
 * agent's answer goes back in the ACK, and the two dialogs are bridged like any other call. Nobody
 * hears the destination's early media (there is no one on the line yet). The 200 stays
 * unacknowledged while the agent rings, which is why the agent's ring timeout is at most 30 s.
 * Whatever ends the session first (DELETE, shutdown, the safety net) cancels or hangs up the leg
 * in progress.
 */
export function sipDialer(srf: Srf): ApiCallDialer {
  const uac = createUAC(srf);
  return async (session, legs, progress, log) => {
    const ended = (): boolean => session.state === 'ended';
    let cancelPending: (() => void) | null = null;
    session.onEnd(() => cancelPending?.());
    /** Ends the call with the reason the dialer knows; nothing happens if something else ended it first. */
    const finish = (reason: ApiCallEndReason, cause: EndCause, statuses: { sipStatus?: number; agentSipStatus?: number } = {}): void => {
      if (ended()) return;
      progress.ended(reason, statuses);
      session.end(cause, statuses.sipStatus ?? statuses.agentSipStatus);
    };
    /** cbRequest for a ringing leg: cancelled on its ring timeout, or at once when the call ends. */
    const ringFor = (ms: number, onTimeout: () => void) => {
      let timer: NodeJS.Timeout | undefined;
      return {
        clear: () => clearTimeout(timer),
        cbRequest: (_err: unknown, req: CancellableRequest): void => {
          const cancel = (): void => req.cancel(() => undefined);
          cancelPending = cancel;
          if (ended()) return cancel();
          timer = setTimeout(() => {
            onTimeout();
            cancel();
          }, ms);
        },
      };
    };

    // --- the destination, one termination URI after the other
    progress.dialing();
    const attempts = carrierAttempts(legs.plan);
    let answer: UnacknowledgedAnswer | null = null;
    let last: FailureKind = { kind: 'internal' };
    for (const [index, attempt] of attempts.entries()) {
      if (ended()) return;
      let timedOut = false;
      let earlyMedia = false;
      const ring = ringFor(legs.destinationRingTimeoutMs, () => (timedOut = true));
      try {
        const result = await uac(attempt.uri, { ...(attempt.options as Srf.CreateUACOptions), noAck: true }, {
          cbRequest: ring.cbRequest,
          cbProvisional: (res) => {
            if (res.body) earlyMedia = true;
            if (res.status >= 180) {
              session.ringing();
              progress.ringing();
            }
          },
        });
        ring.clear();
        cancelPending = null;
        if (!isUnacknowledged(result)) {
          // a 200 without the offer asked for: nothing to give the agent
          result.destroy();
          log.warn({ via: attempt.uri }, 'destination answered without an SDP offer');
          return finish('media_refused', 'failed', { sipStatus: 200 });
        }
        answer = result;
        break;
      } catch (err) {
        ring.clear();
        cancelPending = null;
        if (ended()) return;
        last = classifyError(err, { timedOut });
        log.info({ via: attempt.uri, failure: last, earlyMedia }, 'destination attempt failed');
        if (index === attempts.length - 1 || !carrierFailsOver(last, { earlyMedia })) break;
      }
    }
    if (!answer) return finish(destinationFailure(last), 'failed', { sipStatus: statusForCaller(last) });
    if (ended()) {
      await answer.destroy();
      return;
    }

    // --- answered: billed from here
    session.answered();
    progress.answered();
    const offer = answer.sdp;
    const media = checkMediaPolicy(offer, legs.plan.trunk.outbound.media_encryption, legs.plan.trunk.id);
    if (media.kind !== 'continue' || !fits(legs.agentHeaders, offer, legs.maxMessageBytes)) {
      log.warn({ reason: media.kind === 'continue' ? 'message_too_large' : media.reason }, "destination's offer cannot go to the agent");
      await answer.destroy();
      return finish('media_refused', 'failed');
    }

    // --- the agent, with the destination's offer
    let agentTimedOut = false;
    const ring = ringFor(legs.agentRingTimeoutMs, () => (agentTimedOut = true));
    let agentLeg: Dialog;
    try {
      agentLeg = (await uac(
        legs.agentUri,
        { localSdp: offer, headers: { ...legs.agentHeaders, 'Content-Type': 'application/sdp' }, callingNumber: legs.plan.callerNumber.phone_number },
        { cbRequest: ring.cbRequest },
      )) as Dialog;
    } catch (err) {
      ring.clear();
      cancelPending = null;
      await answer.destroy();
      if (ended()) return;
      const failure = classifyError(err, { timedOut: agentTimedOut });
      log.info({ failure }, 'agent did not take the call');
      return finish(failure.kind === 'timeout' ? 'agent_no_answer' : 'agent_failed', 'failed', { agentSipStatus: statusForCaller(failure) });
    }
    ring.clear();
    cancelPending = null;
    if (ended() || !fits(undefined, agentLeg.remote.sdp, legs.maxMessageBytes)) {
      agentLeg.destroy();
      await answer.destroy();
      return finish('media_refused', 'failed', { agentSipStatus: 200 });
    }
    let destinationLeg: Dialog;
    try {
      destinationLeg = await answer.ack(agentLeg.remote.sdp);
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, 'could not acknowledge the destination');
      agentLeg.destroy();
      return finish('error', 'error', { agentSipStatus: 200 });
    }
    if (ended()) {
      await hangUp(agentLeg, destinationLeg);
      return;
    }
    // The agent is the caller's side of an outbound call: its BYE is caller_hangup, as for its own INVITEs.
    attachDialogs(agentLeg, destinationLeg, session, { agentLeg: 'uas', maxDurationMs: legs.maxDurationMs, maxMessageBytes: legs.maxMessageBytes, ...(legs.onRefer ? { onRefer: legs.onRefer } : {}) }, log);
    confirmLegs(agentLeg, destinationLeg, session);
    if (!ended()) progress.bridged();
    log.info({ agent: legs.agentUri }, 'API call bridged');
  };
}
