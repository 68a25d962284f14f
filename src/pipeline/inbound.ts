import type { CountryCode } from 'libphonenumber-js';
import type { DigestAuthenticator } from '../domain/digest.js';
import type { TrunkRecord } from '../domain/model.js';
import type { CallLimiter } from '../limits/limiter.js';
import type { SourceFloodGuard } from '../limits/floodGuard.js';
import type { RouteStore } from '../stores/routeStore.js';
import type { AuthFailureGuard } from '../limits/authGuard.js';
import { checkCooloff, checkTrunkAuth } from './steps/auth.js';
import { checkProtocol, DEFAULT_PROTOCOL_POLICY, type ProtocolPolicy } from './steps/protocol.js';
import { admitCall } from './steps/limits.js';
import { confirmDid, extractCaller, extractDid } from './steps/did.js';
import { checkMedia } from './steps/media.js';
import { resolveRoute } from './steps/route.js';
import { checkScanner } from './steps/scanner.js';
import { checkInviteShape } from './steps/shape.js';
import { identifyTrunk } from './steps/source.js';
import { checkTransport } from './steps/transport.js';
import type { RejectReason } from './reasons.js';
import type { Decision, InboundOutcome, InboundStep, SipRequestView } from './types.js';

export interface InboundPipelineDeps {
  readonly store: RouteStore;
  readonly digest: DigestAuthenticator;
  readonly silentDropUnknownSources: boolean;
  readonly scannerPatterns: readonly RegExp[];
  readonly defaultCountry: CountryCode | undefined;
  readonly limiter: CallLimiter;
  /** drops floods from sources that match no trunk (absent = no such limit) */
  readonly flood?: SourceFloodGuard;
  /** largest message the edge hands drachtio-server (sip.max_message_bytes) */
  readonly maxMessageBytes: number;
  /** smallest Session-Expires accepted (sip.session_timer.min_se_s; 90 when absent) */
  readonly minSessionExpiresS?: number;
  /** counts failed digest attempts; drops sources in their cool-off (absent = no such limit) */
  readonly authGuard?: AuthFailureGuard;
  /** RFC 3261 request checks (absent = no option tag supported) */
  readonly protocol?: ProtocolPolicy;
}

export interface EvaluateOptions {
  /** route-test: report what authentication would do instead of challenging */
  readonly skipAuth?: boolean;
  /** route-test: decide without taking a call slot (limits are not checked) */
  readonly dryRun?: boolean;
}

/** Route refusals that mean the number was not found (or could not be looked up). */
const NOT_FOUND: ReadonlySet<RejectReason> = new Set(['number_not_found', 'route_unavailable']);

function refused(step: InboundStep, decision: Exclude<Decision<unknown>, { kind: 'continue' }>, trunk?: TrunkRecord): InboundOutcome {
  return trunk ? { ...decision, step, trunk } : { ...decision, step };
}

/**
 * The inbound policy pipeline: each step decides continue / reject / drop; the first refusal
 * ends it. Used by live INVITEs and by the admin route-test alike.
 */
export async function evaluateInbound(req: SipRequestView, deps: InboundPipelineDeps, options: EvaluateOptions = {}): Promise<InboundOutcome> {
  const scanner = checkScanner(req, deps.scannerPatterns);
  if (scanner.kind !== 'continue') return refused('scanner', scanner);

  const cooloff = checkCooloff(req, deps.authGuard);
  if (cooloff.kind !== 'continue') return refused('auth', cooloff);

  const source = identifyTrunk(req, deps.store.trunks(), deps.silentDropUnknownSources, options.dryRun ? undefined : deps.flood);
  if (source.kind !== 'continue') return refused('source', source);
  const trunk = source.value;

  if (!options.skipAuth) {
    const auth = checkTrunkAuth(req, trunk, deps.digest, options.dryRun ? undefined : deps.authGuard);
    if (auth.kind !== 'continue') return refused('auth', auth, trunk);
  }

  const shape = checkInviteShape(req, deps.maxMessageBytes, deps.minSessionExpiresS);
  if (shape.kind !== 'continue') return refused('shape', shape, trunk);
  const protocol = checkProtocol(req, deps.protocol ?? DEFAULT_PROTOCOL_POLICY, { forwards: true });
  if (protocol.kind !== 'continue') return refused('protocol', protocol, trunk);

  const transport = checkTransport(req, trunk);
  if (transport.kind !== 'continue') return refused('transport', transport, trunk);

  const media = checkMedia(req, trunk);
  if (media.kind !== 'continue') return refused('media', media, trunk);

  const did = extractDid(req, deps.defaultCountry);
  if (did.kind !== 'continue') return refused('did', did, trunk);
  let called = did.value;

  // A cache miss reads the number and takes the call's slots in one Redis round trip.
  const along = options.dryRun ? null : deps.limiter.alongLookup(trunk, req.callId);
  let route = await resolveRoute(trunk, called, deps.store, along?.read);
  if (route.kind !== 'continue' && !called.read && NOT_FOUND.has(route.reason)) {
    // Looked up as sent and not found: now libphonenumber reads it (see extractDid).
    const confirmed = confirmDid(called);
    if (confirmed.kind !== 'continue') return refused('did', confirmed, trunk);
    if (confirmed.value.e164 !== called.e164) route = await resolveRoute(trunk, confirmed.value, deps.store);
    called = confirmed.value;
  }
  const early = along?.admission() ?? null;
  if (route.kind !== 'continue') {
    if (early?.kind === 'admitted') early.lease.release(); // the number is refused after all (wrong workspace, no agent...)
    return refused('route', route, trunk);
  }

  let lease = null;
  if (!options.dryRun) {
    const admitted = await admitCall(trunk, route.value.number.workspace_id, req.callId, deps.limiter, early);
    if (admitted.kind !== 'continue') return refused('limits', admitted, trunk);
    lease = admitted.value;
  }

  return {
    kind: 'accept',
    lease,
    plan: {
      trunk,
      did: called,
      caller: extractCaller(req, deps.defaultCountry),
      number: route.value.number,
      targets: route.value.targets,
      voicemailMessage: route.value.voicemailMessage,
      offerSdp: media.value.sdp,
    },
  };
}
