import type Srf from 'drachtio-srf';
import type { CallMedia } from '../media/callMedia.js';
import { agentLegMode } from '../media/policy.js';
import type { Logger } from '../observability/logger.js';
import type { InboundPlan } from '../pipeline/types.js';
import type { SessionTimerSettings } from '../domain/sessionTimer.js';
import { bySize } from './agentTransport.js';
import { failsOver } from './classify.js';
import { withOffer } from './offer.js';
import type { ReferHandler } from './dialogs.js';
import { bridgeSequentially, type Attempt, type BridgeOutcome } from './sequentialBridge.js';
import type { CallSession } from './session.js';

export type { BridgeOutcome } from './sequentialBridge.js';

export interface BridgeSettings {
  readonly ringTimeoutMs: number;
  readonly failoverOn: readonly string[];
  readonly voicemailUri: string | undefined;
  readonly maxCallDurationMs: number;
  readonly maxMessageBytes: number;
  readonly retryAfterS: number;
  readonly sessionTimer?: SessionTimerSettings;
  /** an INVITE to the agent over this many bytes goes over TCP first (sip.udp_max_bytes; 0 = never) */
  readonly udpMaxBytes?: number;
  /** what to do with a REFER from the agent (transfer); refused when absent */
  readonly onRefer?: ReferHandler;
  /** the call's anchored media (media.anchor always) */
  readonly media?: CallMedia;
}

/** Headers the agent receives: who the call is for, never what the carrier claimed in X- headers. */
export function agentHeaders(plan: InboundPlan, req: Srf.SrfRequest, agentId: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Workspace-Id': plan.number.workspace_id,
    'X-Number-Id': plan.number.id,
    'X-Trunk-Id': plan.trunk.id,
    'X-Original-Called': plan.did.raw,
    'X-Caller': plan.caller.e164 ?? plan.caller.raw,
  };
  if (agentId !== null) headers['X-Agent-Id'] = agentId;
  if (plan.trunk.inbound.trusted_identity) {
    for (const name of ['P-Asserted-Identity', 'Identity']) {
      if (req.has(name)) headers[name] = req.get(name);
    }
  }
  return headers;
}

/**
 * The agent leg's From: the caller the edge believes (X-Caller), written by the edge. drachtio-srf
 * would otherwise take it from the carrier's P-Asserted-Identity, trusted trunk or not.
 */
export function agentLegFrom(plan: InboundPlan): { From: string } {
  const number = plan.caller.e164 ?? (/^[\w.!~*'()&=+$,%-]+$/.test(plan.caller.raw) ? plan.caller.raw : '');
  // drachtio-server puts its own address in place of localhost
  return { From: `<sip:${number || 'anonymous'}@localhost>` };
}

function attemptsFor(plan: InboundPlan, req: Srf.SrfRequest, voicemailUri: string | undefined, udpMaxBytes?: number): Attempt[] {
  const from = agentLegFrom(plan);
  const attempts: Attempt[] = plan.targets.map((t) => ({
    label: t.role,
    party: 'agent',
    uri: t.agent.sip_uri,
    options: withOffer({ headers: { ...agentHeaders(plan, req, t.agent.id), ...from } }, plan.offerSdp),
    legMode: agentLegMode(t.agent.media_encryption),
  }));
  if (voicemailUri && plan.voicemailMessage !== null) {
    attempts.push({
      label: 'voicemail',
      party: 'voicemail',
      uri: voicemailUri,
      options: withOffer({ headers: { ...agentHeaders(plan, req, null), 'X-Voicemail-Message': plan.voicemailMessage, ...from } }, plan.offerSdp),
    });
  }
  return attempts.flatMap((attempt) => bySize(attempt, plan.offerSdp, udpMaxBytes));
}

/**
 * Bridges an accepted inbound call: primary agent, then fallback, then voicemail, each with a ring
 * timeout; failover only on the configured failures.
 */
export function bridgeInbound(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  plan: InboundPlan,
  session: CallSession,
  settings: BridgeSettings,
  log: Logger,
): Promise<BridgeOutcome> {
  return bridgeSequentially(srf, req, res, attemptsFor(plan, req, settings.voicemailUri, settings.udpMaxBytes), session, {
    ringTimeoutMs: settings.ringTimeoutMs,
    maxCallDurationMs: settings.maxCallDurationMs,
    maxMessageBytes: settings.maxMessageBytes,
    retryAfterS: settings.retryAfterS,
    ...(settings.sessionTimer ? { sessionTimer: settings.sessionTimer } : {}),
    failsOver: (failure) => failsOver(failure, settings.failoverOn),
    agentLeg: 'uac',
    ...(settings.onRefer ? { onRefer: settings.onRefer } : {}),
    ...(settings.media ? { media: settings.media } : {}),
  }, log);
}
