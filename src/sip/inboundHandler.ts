import type Srf from 'drachtio-srf';
import { bridgeInbound, type BridgeSettings } from '../calls/inboundBridge.js';
import type { ActiveCalls } from '../calls/activeCalls.js';
import type { CallLifecycle } from '../calls/lifecycle.js';
import { CallSession } from '../calls/session.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { evaluateInbound, type InboundPipelineDeps } from '../pipeline/inbound.js';
import { rejectSpec } from '../pipeline/reasons.js';
import { reject, type Refusal, type SipRequestView } from '../pipeline/types.js';
import type { TrunkRecord } from '../domain/model.js';
import { viewOf } from './requestView.js';
import { sendRefusal } from './replies.js';

export interface InboundHandlerDeps {
  readonly srf: Srf;
  readonly pipeline: InboundPipelineDeps;
  readonly lifecycle: CallLifecycle;
  readonly activeCalls: ActiveCalls;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly bridge: (trunkMaxDurationS: number | null) => BridgeSettings;
  readonly retryAfterS: number;
  /** true while the edge drains for shutdown: new calls get 503 */
  readonly draining: () => boolean;
}

/**
 * The drachtio adapter for carrier INVITEs: runs the pipeline, and is the only place that answers
 * a refused call (one reply, one metric, one log line) or hands an accepted one to the bridge.
 */
export function handleInboundInvite(deps: InboundHandlerDeps, req: Srf.SrfRequest, res: Srf.SrfResponse): void {
  const started = process.hrtime.bigint();
  const view = viewOf(req);
  const log = deps.logger.child({ callId: view.callId, direction: 'inbound' });
  const observeSetup = (): void => {
    deps.metrics.setupSeconds.observe({ direction: 'inbound' }, Number(process.hrtime.bigint() - started) / 1e9);
  };

  /** One answer, one metric, one log line, one lifecycle event for every refusal. */
  const refuse = (refusal: Refusal, step: string, trunk?: TrunkRecord): void => {
    sendRefusal(res, refusal, deps.retryAfterS);
    const outcomeLabel = refusal.kind === 'drop' ? 'dropped' : 'rejected';
    deps.metrics.invites.inc({ direction: 'inbound', outcome: outcomeLabel });
    deps.metrics.rejections.inc({ reason: refusal.reason });
    log.info({ reason: refusal.reason, step, trunkId: trunk?.id, source: view.sourceAddress, detail: refusal.detail }, `call ${outcomeLabel}`);
    deps.lifecycle.rejected(rejectedAttempt(view, refusal, trunk));
    observeSetup();
  };

  const run = async (): Promise<void> => {
    if (deps.draining()) return refuse(reject('draining', 'edge is shutting down'), 'drain');
    const outcome = await evaluateInbound(view, deps.pipeline);
    if (outcome.kind !== 'accept') return refuse(outcome, outcome.step, outcome.trunk);
    const { plan, lease } = outcome;
    const callLog = log.child({ trunkId: plan.trunk.id, workspaceId: plan.number.workspace_id, numberId: plan.number.id });
    const session = new CallSession(
      {
        callId: view.callId,
        direction: 'inbound',
        workspaceId: plan.number.workspace_id,
        trunkId: plan.trunk.id,
        trunkKind: plan.trunk.kind,
        numberId: plan.number.id,
        telephony: plan.number.telephony,
        agentId: plan.targets[0]?.agent.id ?? null,
        from: plan.caller.e164 ?? plan.caller.raw,
        to: plan.did.e164,
        browserTest: false,
        startedAt: Date.now(),
      },
      deps.lifecycle,
    );
    if (lease) session.onEnd(() => lease.release());
    deps.activeCalls.track(session);
    deps.metrics.activeCalls.inc({ direction: 'inbound' });
    session.onEnd(() => deps.metrics.activeCalls.dec({ direction: 'inbound' }));
    const result = await bridgeInbound(deps.srf, req, res, plan, session, deps.bridge(plan.trunk.max_call_duration_s), callLog);
    observeSetup();
    deps.metrics.invites.inc({ direction: 'inbound', outcome: result });
  };

  run().catch((err: unknown) => {
    log.error({ err }, 'inbound call failed unexpectedly');
    deps.metrics.invites.inc({ direction: 'inbound', outcome: 'error' });
    if (!res.finalResponseSent) res.send(500);
  });
}

function rejectedAttempt(view: SipRequestView, refusal: Refusal, trunk: TrunkRecord | undefined) {
  return {
    callId: view.callId,
    direction: 'inbound' as const,
    reason: refusal.reason,
    status: refusal.kind === 'drop' ? null : rejectSpec(refusal.reason).status,
    trunkId: trunk?.id ?? null,
    workspaceId: trunk?.workspace_id ?? null,
    from: view.from,
    to: view.requestUri,
    at: Date.now(),
  };
}
