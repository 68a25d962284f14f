import type { CountryCode } from 'libphonenumber-js';
import type { CallLimiter } from '../limits/limiter.js';
import type { DoNotCallLookup } from '../stores/dnc.js';
import type { RouteStore } from '../stores/routeStore.js';
import type { WorkspaceSettingsStore } from '../stores/workspaceSettings.js';
import { identifyAgent } from './steps/outbound/agentSource.js';
import { checkCallerId } from './steps/outbound/callerId.js';
import { checkDestinationPolicy, parseDestination } from './steps/outbound/destination.js';
import { checkDoNotCall } from './steps/outbound/dnc.js';
import { selectOutboundTrunk } from './steps/outbound/trunk.js';
import { admitCall } from './steps/limits.js';
import { checkMediaOf } from './steps/media.js';
import { checkInviteShape } from './steps/shape.js';
import { checkProtocol, DEFAULT_PROTOCOL_POLICY, type ProtocolPolicy } from './steps/protocol.js';
import { reject, type OutboundOutcome, type OutboundStep, type Refusal, type SipRequestView } from './types.js';
import type { TrunkRecord } from '../domain/model.js';

export interface OutboundPipelineDeps {
  readonly store: RouteStore;
  readonly workspaces: WorkspaceSettingsStore;
  readonly limiter: CallLimiter;
  readonly defaultCountry: CountryCode | undefined;
  readonly defaultOutboundTrunkId: string | undefined;
  /** RFC 3261 request checks (absent = no option tag supported) */
  readonly protocol?: ProtocolPolicy;
  /**
   * media.anchor always: the anchor gives the carrier leg the trunk's media encryption whatever
   * the agent offers (the agent's offer is held to the agent's own policy at the bridge), so the
   * trunk's policy is not checked against the agent's offer here.
   */
  readonly mediaAnchored?: boolean;
  /** the workspace's and the platform's do-not-call lists */
  readonly dnc: DoNotCallLookup;
}

export interface OutboundTarget {
  /** Request-URI user of the agent's INVITE, or a REFER target's number */
  readonly requestUri: string;
}

function refused(step: OutboundStep, decision: Refusal, trunk?: TrunkRecord): OutboundOutcome {
  return trunk ? { ...decision, step, trunk } : { ...decision, step };
}

/**
 * The outbound policy pipeline for an agent's call (or a transfer it asked for): who is calling,
 * with which caller ID, to where, over which trunk, under which limits. The caller has already
 * established that the request comes from the agent infrastructure.
 */
export async function evaluateOutbound(
  req: SipRequestView,
  deps: OutboundPipelineDeps,
  options: { dryRun?: boolean; /** an agent's own INVITE (not a transfer): check its Contact and size */ maxMessageBytes?: number } = {},
): Promise<OutboundOutcome> {
  const protocol = checkProtocol(req, deps.protocol ?? DEFAULT_PROTOCOL_POLICY, { forwards: true });
  if (protocol.kind !== 'continue') return refused('protocol', protocol);

  if (options.maxMessageBytes !== undefined) {
    const shape = checkInviteShape(req, options.maxMessageBytes);
    if (shape.kind !== 'continue') return refused('shape', shape);
  }
  const agent = await identifyAgent(req, deps.store);
  if (agent.kind !== 'continue') return refused('agent', agent);

  const caller = await checkCallerId(req, agent.value, deps.store, deps.defaultCountry);
  if (caller.kind !== 'continue') return refused('caller_id', caller);

  const destination = parseDestination(req.requestUri, deps.defaultCountry);
  if (destination.kind !== 'continue') return refused('destination', destination);

  const trunk = selectOutboundTrunk(caller.value, deps.store.trunks(), deps.defaultOutboundTrunkId);
  if (trunk.kind !== 'continue') return refused('trunk', trunk);

  let workspaceCountries: readonly string[];
  try {
    workspaceCountries = await deps.workspaces.allowedCountries(agent.value.workspace_id);
  } catch (err) {
    return refused('country', reject('route_unavailable', `workspace settings unavailable: ${(err as Error).message}`), trunk.value);
  }
  const policy = checkDestinationPolicy(destination.value, trunk.value, workspaceCountries);
  if (policy.kind !== 'continue') return refused('country', policy, trunk.value);

  const optedOut = await checkDoNotCall(destination.value.e164, agent.value.workspace_id, deps.dnc);
  if (optedOut.kind !== 'continue') return refused('dnc', optedOut, trunk.value);

  // anchored: the SDP is still read here (a multipart body's SDP part) but its encryption is the anchor's to set
  const media = checkMediaOf(req, deps.mediaAnchored ? 'allowed' : trunk.value.outbound.media_encryption, trunk.value.id);
  if (media.kind !== 'continue') return refused('media', media, trunk.value);

  let lease = null;
  if (!options.dryRun) {
    const admitted = await admitCall(trunk.value, agent.value.workspace_id, req.callId, deps.limiter);
    if (admitted.kind !== 'continue') return refused('limits', admitted, trunk.value);
    lease = admitted.value;
  }
  return {
    kind: 'accept',
    lease,
    plan: {
      agent: agent.value,
      callerNumber: caller.value,
      destination: { e164: destination.value.e164, country: destination.value.country ?? null },
      trunk: trunk.value,
      offerSdp: media.value.sdp,
    },
  };
}
