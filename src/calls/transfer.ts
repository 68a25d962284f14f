import type Srf from 'drachtio-srf';
import type { CallMedia, Side } from '../media/callMedia.js';
import { carrierLegMode } from '../media/policy.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { evaluateOutbound, type OutboundPipelineDeps } from '../pipeline/outbound.js';
import { rejectSpec } from '../pipeline/reasons.js';
import type { SipRequestView } from '../pipeline/types.js';
import { uriOfNameAddr } from '../domain/sipHeaders.js';
import type { CancellableRequest } from '../types/drachtio.js';
import type { ActiveCalls } from './activeCalls.js';
import { classifyError, statusForCaller, type FailureKind } from './classify.js';
import { attachDialogs, detachDialog, type ReferHandler } from './dialogs.js';
import type { CallLifecycle } from './lifecycle.js';
import { carrierAttempts, carrierFailsOver } from './outboundBridge.js';
import { CallSession } from './session.js';

export interface TransferDeps {
  readonly srf: Srf;
  readonly outbound: OutboundPipelineDeps;
  readonly lifecycle: CallLifecycle;
  readonly activeCalls: ActiveCalls;
  readonly metrics: Metrics;
  readonly ringTimeoutMs: number;
  readonly maxMessageBytes: number;
}

export interface TransferContext {
  /** the call the agent is on */
  readonly session: CallSession;
  /** the agent that may transfer, and the caller ID the new leg shows (a number of its workspace) */
  readonly agentId: string;
  readonly callerE164: string;
  readonly log: Logger;
  /** the call's anchored media, and which side of it the party that stays is on */
  readonly media?: { readonly call: CallMedia; readonly keep: Side };
}

const REASONS: Readonly<Record<number, string>> = { 100: 'Trying', 200: 'OK', 403: 'Forbidden', 404: 'Not Found', 480: 'Temporarily Unavailable', 484: 'Address Incomplete', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 500: 'Server Internal Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 603: 'Decline' };

function notify(agentLeg: Srf.Dialog, status: number, final: boolean, reason?: string): Promise<unknown> {
  const frag = `SIP/2.0 ${status} ${REASONS[status] ?? 'Unknown'}\r\n${reason ? `X-Reject-Reason: ${reason}\r\n` : ''}`;
  return agentLeg
    .request({
      method: 'NOTIFY',
      headers: {
        Event: 'refer',
        'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60',
        'Content-Type': 'message/sipfrag;version=2.0',
      },
      body: frag,
    } as unknown as Srf.SrfRequest)
    .catch(() => undefined);
}

/**
 * Blind transfer asked by the agent with REFER (RFC 3515): the target goes through exactly the
 * outbound pipeline of an agent's call (caller ID, country, premium, trunk, limits). Refused or
 * failed: the agent hears it by NOTIFY and the original call stays up. Answered: the other party
 * is re-INVITEd to the new leg, the agent's leg ends, and the pair goes on as one call.
 */
export function transferHandler(deps: TransferDeps, ctx: TransferContext): ReferHandler {
  let n = 0;
  return (agentLeg, otherLeg, req, res) => {
    const referTo = req.has('Refer-To') ? uriOfNameAddr(req.get('Refer-To')) : '';
    if (!/^(sips?|tel):/i.test(referTo)) {
      res.send(400, 'Bad Refer-To', {});
      return;
    }
    res.send(202, 'Accepted', {});
    const callId = `${ctx.session.info.callId}-xfer-${++n}`;
    const view: SipRequestView = {
      method: 'INVITE',
      callId,
      sourceAddress: '',
      transport: '',
      requestUri: referTo,
      to: `<${referTo}>`,
      from: `<sip:${ctx.callerE164}@sip-edge.invalid>`,
      body: otherLeg.remote.sdp,
      contentType: 'application/sdp',
      header: (name) => (name.toLowerCase() === 'x-agent-id' ? ctx.agentId : undefined),
    };
    const log = ctx.log.child({ transfer: callId });
    void (async () => {
      const outcome = await evaluateOutbound(view, deps.outbound);
      if (outcome.kind !== 'accept') {
        deps.metrics.rejections.inc({ reason: outcome.reason });
        log.info({ reason: outcome.reason, step: outcome.step, detail: outcome.detail }, 'transfer refused');
        await notify(agentLeg, rejectSpec(outcome.reason).status, true, outcome.reason);
        return;
      }
      const { plan, lease } = outcome;
      await notify(agentLeg, 100, false);
      let last: FailureKind = { kind: 'internal' };
      for (const attempt of carrierAttempts(plan)) {
        let earlyMedia = false;
        let timedOut = false;
        let timer: NodeJS.Timeout | undefined;
        try {
          const anchored = ctx.media ? await ctx.media.call.transfer(ctx.media.keep, otherLeg.remote.sdp, carrierLegMode(plan.trunk.outbound.media_encryption), 'carrier') : null;
          const newLeg = await deps.srf.createUAC(attempt.uri, { ...attempt.options, localSdp: anchored?.offer ?? otherLeg.remote.sdp } as Srf.CreateUACOptions, {
            cbRequest: (_err: unknown, sent: CancellableRequest) => {
              timer = setTimeout(() => {
                timedOut = true;
                sent.cancel(() => undefined);
              }, deps.ringTimeoutMs);
            },
            cbProvisional: (p: Srf.SrfResponse) => {
              if (p.body) earlyMedia = true;
            },
          } as never);
          clearTimeout(timer);
          const transferSession = new CallSession(
            { ...ctx.session.info, callId, direction: 'outbound', trunkId: plan.trunk.id, trunkKind: plan.trunk.kind, numberId: plan.callerNumber.id, telephony: plan.callerNumber.telephony, from: plan.callerNumber.phone_number, to: plan.destination.e164, startedAt: Date.now() },
            deps.lifecycle,
          );
          transferSession.answered();
          if (lease) transferSession.onEnd(() => lease.release());
          deps.activeCalls.track(transferSession);
          // The original call's billing goes on with the other party; both end together.
          transferSession.onEnd(() => ctx.session.end('caller_hangup'));
          await notify(agentLeg, 200, true);
          detachDialog(agentLeg);
          detachDialog(otherLeg);
          agentLeg.destroy();
          const sdpForOther = anchored ? await anchored.answered(newLeg.remote.sdp) : newLeg.remote.sdp;
          await otherLeg.modify(sdpForOther).catch((err: unknown) => log.warn({ err }, 're-INVITE of the transferee failed'));
          attachDialogs(otherLeg, newLeg, transferSession, { agentLeg: 'uac', maxMessageBytes: deps.maxMessageBytes, ...(ctx.media ? { media: ctx.media.call } : {}) }, log);
          ctx.session.setHangup(() => transferSession.terminate('shutdown').then(() => undefined));
          ctx.session.setLegs(otherLeg, newLeg);
          log.info({ target: plan.destination.e164, via: attempt.uri }, 'transfer completed');
          return;
        } catch (err) {
          clearTimeout(timer);
          last = classifyError(err, { timedOut });
          log.info({ failure: last, via: attempt.uri }, 'transfer attempt failed');
          if (!carrierFailsOver(last, { earlyMedia })) break;
        }
      }
      lease?.release();
      await notify(agentLeg, statusForCaller(last), true);
    })().catch((err: unknown) => log.error({ err }, 'transfer failed unexpectedly'));
  };
}
