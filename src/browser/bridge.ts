import type Srf from 'drachtio-srf';
import { bySize } from '../calls/agentTransport.js';
import { failsOver } from '../calls/classify.js';
import type { BridgeSettings } from '../calls/inboundBridge.js';
import { withOffer } from '../calls/offer.js';
import { bridgeSequentially, type Attempt, type BridgeOutcome } from '../calls/sequentialBridge.js';
import type { CallSession } from '../calls/session.js';
import { agentLegMode } from '../media/policy.js';
import type { Logger } from '../observability/logger.js';
import type { BrowserPlan } from '../pipeline/browser.js';

/** What the agent sees as the caller of a browser test call (X-Caller, From user). */
export const BROWSER_CALLER = 'browser';

/**
 * Headers the agent receives on a test call: the usual ones (workspace, agent, number, the
 * browser entry as trunk, the caller) and X-Test-Call: true. Nothing the browser sent crosses.
 */
export function testCallHeaders(plan: BrowserPlan, agentId: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Workspace-Id': plan.claims.workspaceId,
    'X-Trunk-Id': plan.entry.id,
    'X-Caller': BROWSER_CALLER,
    'X-Test-Call': 'true',
  };
  if (plan.number) {
    headers['X-Number-Id'] = plan.number.id;
    headers['X-Original-Called'] = plan.number.phone_number;
  }
  if (agentId !== null) headers['X-Agent-Id'] = agentId;
  return headers;
}

/** The attempts of a test call: the token's agent, or the number's primary, fallback and voicemail. */
export function testCallAttempts(plan: BrowserPlan, voicemailUri: string | undefined): Attempt[] {
  const from = { From: `<sip:${BROWSER_CALLER}@localhost>` };
  const attempts: Attempt[] = plan.targets.map((t) => ({
    label: t.role,
    party: 'agent',
    uri: t.agent.sip_uri,
    options: withOffer({ headers: { ...testCallHeaders(plan, t.agent.id), ...from } }, plan.offerSdp),
    legMode: agentLegMode(t.agent.media_encryption),
  }));
  if (plan.number && voicemailUri && plan.voicemailMessage !== null) {
    attempts.push({
      label: 'voicemail',
      party: 'voicemail',
      uri: voicemailUri,
      options: withOffer({ headers: { ...testCallHeaders(plan, null), 'X-Voicemail-Message': plan.voicemailMessage, ...from } }, plan.offerSdp),
      legMode: 'rtp',
    });
  }
  return attempts.flatMap((attempt) => bySize(attempt, plan.offerSdp));
}

/**
 * Bridges an accepted test call like an inbound call (ring timeout, failover on the configured
 * failures), always through the media anchor. A REFER from the agent is refused: a test call
 * never reaches the PSTN.
 */
export function bridgeTestCall(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  plan: BrowserPlan,
  session: CallSession,
  settings: Omit<BridgeSettings, 'onRefer'>,
  log: Logger,
): Promise<BridgeOutcome> {
  return bridgeSequentially(srf, req, res, testCallAttempts(plan, settings.voicemailUri), session, {
    ringTimeoutMs: settings.ringTimeoutMs,
    maxCallDurationMs: settings.maxCallDurationMs,
    maxMessageBytes: settings.maxMessageBytes,
    retryAfterS: settings.retryAfterS,
    failsOver: (failure) => failsOver(failure, settings.failoverOn),
    agentLeg: 'uac',
    ...(settings.media ? { media: settings.media } : {}),
  }, log);
}
