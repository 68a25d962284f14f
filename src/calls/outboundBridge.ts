import type { SessionTimerSettings } from '../domain/sessionTimer.js';
import type Srf from 'drachtio-srf';
import type { CallMedia } from '../media/callMedia.js';
import { carrierLegMode } from '../media/policy.js';
import type { Logger } from '../observability/logger.js';
import type { OutboundPlan } from '../pipeline/types.js';
import type { FailureKind } from './classify.js';
import type { ReferHandler } from './dialogs.js';
import { withOffer } from './offer.js';
import { bridgeSequentially, type Attempt, type BridgeOutcome } from './sequentialBridge.js';
import type { CallSession } from './session.js';

export interface OutboundBridgeSettings {
  readonly ringTimeoutMs: number;
  readonly maxCallDurationMs: number;
  readonly maxMessageBytes: number;
  readonly retryAfterS: number;
  readonly sessionTimer?: SessionTimerSettings;
  /** what to do with a REFER from the agent (transfer); refused when absent */
  readonly onRefer?: ReferHandler;
  /** the call's anchored media (media.anchor always) */
  readonly media?: CallMedia;
}

/** The carrier's Request-URI for a destination: the termination URI's host and port, the E.164 as user. */
export function carrierUri(terminationUri: string, e164: string, transport: string): string {
  const parsed = /^(sips?):(?:[^@;]*@)?([^;?]+)/i.exec(terminationUri);
  const scheme = parsed?.[1]?.toLowerCase() ?? 'sip';
  const hostPort = parsed?.[2] ?? terminationUri;
  return `${scheme}:${e164}@${hostPort}${transport === 'udp' ? '' : `;transport=${transport}`}`;
}

/**
 * A carrier leg failure moves on to the next termination URI only when the carrier (not the
 * callee) failed: 408, 5xx, unreachable; never after a 486/603 or once early media flowed.
 */
export function carrierFailsOver(failure: FailureKind, context: { earlyMedia: boolean }): boolean {
  if (context.earlyMedia) return false;
  switch (failure.kind) {
    case 'unreachable':
      return true;
    case 'status':
      return failure.status === 408 || (failure.status >= 500 && failure.status < 600);
    case 'timeout':
    case 'cancelled':
    case 'redis':
    case 'too_large':
    case 'internal':
    case 'media':
      return false;
    default: {
      const never: never = failure;
      throw new Error(`unknown failure ${JSON.stringify(never)}`);
    }
  }
}

export function carrierAttempts(plan: OutboundPlan): Attempt[] {
  const { trunk, destination, callerNumber } = plan;
  const auth = trunk.outbound.auth_username && trunk.outbound.auth_password
    ? { auth: { username: trunk.outbound.auth_username, password: trunk.outbound.auth_password } }
    : {};
  return [...trunk.outbound.termination_uris]
    .sort((a, b) => a.priority - b.priority)
    .map((t, i) => ({
      label: `termination-${i + 1}`,
      party: 'carrier' as const,
      uri: carrierUri(t.uri, destination.e164, trunk.outbound.transport),
      options: withOffer({ headers: {}, callingNumber: callerNumber.phone_number, calledNumber: destination.e164, ...auth }, plan.offerSdp),
      legMode: carrierLegMode(trunk.outbound.media_encryption),
    }));
}

/** Bridges an agent's accepted call to the carrier, termination URIs in priority order. */
export function bridgeOutbound(
  srf: Srf,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  plan: OutboundPlan,
  session: CallSession,
  settings: OutboundBridgeSettings,
  log: Logger,
): Promise<BridgeOutcome> {
  return bridgeSequentially(srf, req, res, carrierAttempts(plan), session, { ...settings, failsOver: carrierFailsOver, agentLeg: 'uas' }, log);
}
