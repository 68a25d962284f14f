import type Srf from 'drachtio-srf';
import type { BridgeSettings } from '../calls/inboundBridge.js';
import type { CallInfo } from '../calls/lifecycle.js';
import type { TrunkRecord } from '../domain/model.js';
import { evaluateBrowser, type BrowserPipelineDeps, type BrowserPlan } from '../pipeline/browser.js';
import type { Refusal, SipRequestView } from '../pipeline/types.js';
import type { Accepted } from '../sip/inviteHandler.js';
import { BROWSER_CALLER, bridgeTestCall } from './bridge.js';

/** The browser entry as the INVITE adapter sees it. */
export interface TestCallEntry {
  /** drachtio listening ports of the ws/wss contacts */
  readonly entryPorts: ReadonlySet<number>;
  readonly pipeline: BrowserPipelineDeps;
  /** bridge settings (ring timeout, failover, voicemail) for a call of this max duration */
  readonly bridge: (maxDurationS: number | null) => Omit<BridgeSettings, 'onRefer' | 'media'>;
}

/**
 * The decision on an INVITE from the browser entry: the browser pipeline, then a call that is
 * billed as `browser_test` and always bridged through the media anchor (the browser's leg gets
 * ICE and DTLS-SRTP, the agent's leg its own policy).
 */
export async function decideTestCall(
  entry: TestCallEntry,
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  view: SipRequestView,
  refuse: (refusal: Refusal, step: string, trunk?: TrunkRecord) => void,
): Promise<Accepted | null> {
  const outcome = await evaluateBrowser(view, entry.pipeline);
  if (outcome.kind !== 'accept') {
    // an INVITE without a token of ours is anonymous, like one from an unknown source: not
    // attributed to the browser entry (no call.rejected in attributed mode, a rate-limited log line)
    refuse(outcome, outcome.step, outcome.reason === 'test_call_token_invalid' ? undefined : outcome.trunk);
    return null;
  }
  const { plan } = outcome;
  return {
    lease: outcome.lease,
    trunk: plan.entry,
    caller: { mode: 'webrtc', role: 'browser' },
    info: testCallInfo(view, plan),
    requiresMedia: true,
    bridge: (session, callLog, media) =>
      bridgeTestCall(srf, req, res, plan, session, { ...entry.bridge(plan.entry.max_call_duration_s), ...(media ? { media } : {}) }, callLog),
  };
}

export function testCallInfo(view: Pick<SipRequestView, 'callId'>, plan: BrowserPlan): CallInfo {
  return {
    callId: view.callId,
    direction: 'inbound',
    workspaceId: plan.claims.workspaceId,
    trunkId: plan.entry.id,
    trunkKind: plan.entry.kind,
    numberId: plan.number?.id ?? null,
    telephony: plan.number?.telephony ?? null,
    agentId: plan.targets[0]?.agent.id ?? null,
    from: BROWSER_CALLER,
    to: plan.number?.phone_number ?? `agent:${plan.claims.target.id}`,
    browserTest: true,
    startedAt: Date.now(),
  };
}
