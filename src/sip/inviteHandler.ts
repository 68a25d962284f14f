import type Srf from 'drachtio-srf';
import type { ActiveCalls } from '../calls/activeCalls.js';
import type { AnswerWatch } from '../calls/answerWatch.js';
import { bridgeInbound, type BridgeSettings } from '../calls/inboundBridge.js';
import type { CallInfo, CallLifecycle, Direction } from '../calls/lifecycle.js';
import { bridgeOutbound, type OutboundBridgeSettings } from '../calls/outboundBridge.js';
import type { BridgeOutcome } from '../calls/sequentialBridge.js';
import { CallSession } from '../calls/session.js';
import { transferHandler, type TransferDeps } from '../calls/transfer.js';
import type { CidrMatcher } from '../domain/cidr.js';
import type { TrunkRecord } from '../domain/model.js';
import type { Logger } from '../observability/logger.js';
import type { LogBudget } from '../observability/logBudget.js';
import type { Metrics } from '../observability/metrics.js';
import { evaluateInbound, type InboundPipelineDeps } from '../pipeline/inbound.js';
import { evaluateOutbound, type OutboundPipelineDeps } from '../pipeline/outbound.js';
import { rejectSpec } from '../pipeline/reasons.js';
import { reject, type Refusal, type SipRequestView } from '../pipeline/types.js';
import type { Lease } from '../limits/limiter.js';
import type { CallMedia, LegRole, MediaService } from '../media/index.js';
import { agentLegMode, carrierLegMode, type LegMode } from '../media/policy.js';
import { decideTestCall, type TestCallEntry } from '../browser/invite.js';
import { onBrowserEntry } from '../browser/entry.js';
import { viewOf } from './requestView.js';
import { sendRefusal } from './replies.js';

export interface InviteHandlerDeps {
  readonly srf: Srf;
  readonly inbound: InboundPipelineDeps;
  readonly outbound: OutboundPipelineDeps;
  /** Sources of the agent infrastructure: their INVITEs are outbound calls. */
  readonly agentSources: CidrMatcher<true>;
  readonly lifecycle: CallLifecycle;
  readonly activeCalls: ActiveCalls;
  /** marks the call answered the instant the caller's 200 goes out, and holds an early BYE */
  readonly answers: AnswerWatch;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly inboundBridge: (trunkMaxDurationS: number | null) => BridgeSettings;
  readonly outboundBridge: (trunkMaxDurationS: number | null) => OutboundBridgeSettings;
  readonly transfer: TransferDeps;
  readonly retryAfterS: number;
  /** rate limit of log lines about dropped INVITEs and unknown sources (floods, scanners): absent = every one logged */
  readonly logBudget?: LogBudget;
  /** true while the edge drains for shutdown: new calls get 503 */
  readonly draining: () => boolean;
  /** the media anchor; absent with media.anchor off */
  readonly media?: MediaService;
  /** the browser entry (drachtio's ws/wss listeners); absent while test calls are off */
  readonly browser?: TestCallEntry;
}

export type Accepted = {
  info: CallInfo;
  lease: Lease | null;
  trunk: TrunkRecord;
  /** the caller's leg as the media anchor sees it */
  caller: { mode: LegMode; role: LegRole };
  bridge: (session: CallSession, log: Logger, media: CallMedia | null) => Promise<BridgeOutcome>;
  /** the call cannot go without the media anchor (a browser's WebRTC) */
  requiresMedia?: true;
};

/**
 * The drachtio adapter for every new INVITE: agent infrastructure sources are outbound calls,
 * everything else inbound. It runs the pipeline and is the only place that answers a refused call
 * (one reply, one metric, one log line, one lifecycle event) or hands an accepted one to a bridge.
 */
export function handleInvite(deps: InviteHandlerDeps, req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  const started = process.hrtime.bigint();
  const view = viewOf(req);
  // a request on the browser entry is a browser test call, whoever sent it; nowhere else is one
  const browser = deps.browser && onBrowserEntry(req, deps.browser.entryPorts) ? deps.browser : null;
  const direction: Direction = !browser && deps.agentSources.match(view.sourceAddress) ? 'outbound' : 'inbound';
  // One child logger per accepted call (below); refusals and errors log their fields inline.
  const callFields = { callId: view.callId, direction };
  const observeSetup = (): void => {
    deps.metrics.setupSeconds.observe({ direction }, Number(process.hrtime.bigint() - started) / 1e9);
  };

  const refuse = (refusal: Refusal, step: string, trunk?: TrunkRecord): void => {
    sendRefusal(res, refusal, deps.retryAfterS);
    const outcome = refusal.kind === 'drop' ? 'dropped' : 'rejected';
    deps.metrics.invites.inc({ direction, outcome });
    deps.metrics.rejections.inc({ reason: refusal.reason });
    // drops, unknown sources and token-less browser INVITEs are what floods are made of: their lines are rate-limited, the rest are one per call
    const hostile = refusal.kind === 'drop' || refusal.reason === 'unknown_source' || refusal.reason === 'test_call_token_invalid';
    const budget = hostile && deps.logBudget ? deps.logBudget.take(refusal.reason) : { suppressed: 0 };
    if (budget) {
      const suppressed = budget.suppressed > 0 ? { suppressedSinceLast: budget.suppressed } : {};
      deps.logger.info({ ...callFields, reason: refusal.reason, step, trunkId: trunk?.id, source: view.sourceAddress, detail: refusal.detail, ...suppressed }, `call ${outcome}`);
    }
    deps.lifecycle.rejected(rejectedAttempt(view, direction, refusal, trunk));
    observeSetup();
  };

  const decide = async (): Promise<Accepted | null> => {
    if (browser) return decideTestCall(browser, deps.srf, req, res, view, refuse);
    if (direction === 'outbound') {
      const outcome = await evaluateOutbound(view, deps.outbound, { maxMessageBytes: deps.inbound.maxMessageBytes });
      if (outcome.kind !== 'accept') {
        refuse(outcome, outcome.step, outcome.trunk);
        return null;
      }
      const { plan } = outcome;
      return {
        lease: outcome.lease,
        trunk: plan.trunk,
        caller: { mode: agentLegMode(plan.agent.media_encryption), role: 'agent' },
        info: callInfo(view, 'outbound', plan.callerNumber.workspace_id, plan.trunk, plan.callerNumber.id, plan.callerNumber.telephony, plan.agent.id, plan.callerNumber.phone_number, plan.destination.e164),
        bridge: (session, callLog, media) =>
          bridgeOutbound(deps.srf, req, res, plan, session, {
            ...deps.outboundBridge(plan.trunk.max_call_duration_s),
            ...(media ? { media } : {}),
            onRefer: transferHandler(deps.transfer, { session, agentId: plan.agent.id, callerE164: plan.callerNumber.phone_number, log: callLog, ...(media ? { media: { call: media, keep: 'b' as const } } : {}) }),
          }, callLog),
      };
    }
    const outcome = await evaluateInbound(view, deps.inbound);
    if (outcome.kind !== 'accept') {
      refuse(outcome, outcome.step, outcome.trunk);
      return null;
    }
    const { plan } = outcome;
    return {
      lease: outcome.lease,
      trunk: plan.trunk,
      caller: { mode: carrierLegMode(plan.trunk.inbound.media_encryption), role: 'carrier' },
      info: callInfo(view, 'inbound', plan.number.workspace_id, plan.trunk, plan.number.id, plan.number.telephony, plan.targets[0]?.agent.id ?? null, plan.caller.e164 ?? plan.caller.raw, plan.did.e164),
      bridge: (session, callLog, media) =>
        bridgeInbound(deps.srf, req, res, plan, session, {
          ...deps.inboundBridge(plan.trunk.max_call_duration_s),
          ...(media ? { media } : {}),
          // a transfer shows the called number as caller ID: a number of the agent's workspace
          onRefer: transferHandler(deps.transfer, { session, agentId: plan.targets[0]!.agent.id, callerE164: plan.number.phone_number, log: callLog, ...(media ? { media: { call: media, keep: 'a' as const } } : {}) }),
        }, callLog),
    };
  };

  const run = async (): Promise<void> => {
    if (deps.draining()) return refuse(reject('draining', 'edge is shutting down'), 'drain');
    const accepted = await decide();
    if (!accepted) return;
    const { info, lease } = accepted;
    const callLog = deps.logger.child({ ...callFields, trunkId: info.trunkId, workspaceId: info.workspaceId, numberId: info.numberId });
    const media = deps.media ? deps.media.open(info.callId, accepted.caller, accepted.trunk.media_timeout_s, callLog) : null;
    if ((deps.media || accepted.requiresMedia) && !media) {
      lease?.release();
      return refuse(reject('media_unavailable', deps.media ? 'no rtpengine instance is healthy' : 'the media anchor is off (media.anchor)'), 'media', accepted.trunk);
    }
    const session = new CallSession(info, deps.lifecycle);
    if (lease) session.onEnd(() => lease.release());
    if (media) {
      session.onEnd(() => media.release());
      session.setEndDetail(() => media.finish());
    }
    deps.activeCalls.track(session);
    deps.answers.expect(session);
    deps.metrics.activeCalls.inc({ direction });
    session.onEnd(() => deps.metrics.activeCalls.dec({ direction }));
    const result = await accepted.bridge(session, callLog, media);
    observeSetup();
    deps.metrics.invites.inc({ direction, outcome: result });
  };

  run().catch((err: unknown) => {
    deps.logger.error({ ...callFields, err }, 'call failed unexpectedly');
    deps.metrics.invites.inc({ direction, outcome: 'error' });
    if (!res.finalResponseSent) res.send(500);
  });
}

function callInfo(
  view: SipRequestView,
  direction: Direction,
  workspaceId: string,
  trunk: TrunkRecord,
  numberId: string,
  telephony: CallInfo['telephony'],
  agentId: string | null,
  from: string,
  to: string,
): CallInfo {
  return {
    callId: view.callId,
    direction,
    workspaceId,
    trunkId: trunk.id,
    trunkKind: trunk.kind,
    numberId,
    telephony,
    agentId,
    from,
    to,
    browserTest: false,
    startedAt: Date.now(),
  };
}

function rejectedAttempt(view: SipRequestView, direction: Direction, refusal: Refusal, trunk: TrunkRecord | undefined) {
  return {
    callId: view.callId,
    direction,
    reason: refusal.reason,
    status: refusal.kind === 'drop' ? null : rejectSpec(refusal.reason).status,
    trunkId: trunk?.id ?? null,
    workspaceId: trunk?.workspace_id ?? null,
    from: view.from,
    to: view.requestUri,
    at: Date.now(),
  };
}
