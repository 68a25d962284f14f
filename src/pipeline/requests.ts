import type { CidrMatcher } from '../domain/cidr.js';
import type { TrunkRecord } from '../domain/model.js';
import type { AuthFailureGuard } from '../limits/authGuard.js';
import type { SourceFloodGuard } from '../limits/floodGuard.js';
import type { RouteStore } from '../stores/routeStore.js';
import { checkCooloff } from './steps/auth.js';
import { checkMethod, checkProtocol, DEFAULT_PROTOCOL_POLICY, type ProtocolPolicy } from './steps/protocol.js';
import { checkScanner } from './steps/scanner.js';
import { identifyTrunk } from './steps/source.js';
import { reject, type Refusal, type SipRequestView } from './types.js';

/**
 * Every request outside a dialog that is not an INVITE (OPTIONS, REGISTER, SUBSCRIBE, PUBLISH,
 * MESSAGE, INFO, NOTIFY, as drachtio-server hands them to the app) goes through the same gates
 * as a call: the scanner list, the failed-auth cool-off, the source allowlist with its flood
 * guard; then the RFC 3261 checks. Only OPTIONS is served (200); the rest get 405 with Allow.
 */
export interface RequestPipelineDeps {
  readonly store: RouteStore;
  readonly silentDropUnknownSources: boolean;
  readonly scannerPatterns: readonly RegExp[];
  /** the agent infrastructure: its requests are as welcome as a trunk's */
  readonly agentSources: CidrMatcher<true>;
  readonly flood?: SourceFloodGuard;
  readonly authGuard?: AuthFailureGuard;
  readonly protocol?: ProtocolPolicy;
}

export type RequestStep = 'scanner' | 'auth' | 'source' | 'method' | 'protocol';

export type RequestRefusal = Refusal & { readonly step: RequestStep; readonly trunk?: TrunkRecord };

export type RequestOutcome =
  /** an OPTIONS to answer 200; trunk null for the agent infrastructure */
  | { readonly kind: 'accept'; readonly method: 'OPTIONS'; readonly trunk: TrunkRecord | null }
  | RequestRefusal;

function refused(step: RequestStep, refusal: Refusal, trunk?: TrunkRecord): RequestRefusal {
  return trunk ? { ...refusal, step, trunk } : { ...refusal, step };
}

type Admitted = { readonly kind: 'admitted'; readonly trunk: TrunkRecord | null } | { readonly kind: 'refused'; readonly outcome: RequestRefusal };

/** The gates every request passes before the edge reads more of it: scanner, cool-off, source. */
function admitSource(req: SipRequestView, deps: RequestPipelineDeps): Admitted {
  const scanner = checkScanner(req, deps.scannerPatterns);
  if (scanner.kind !== 'continue') return { kind: 'refused', outcome: refused('scanner', scanner) };
  const cooloff = checkCooloff(req, deps.authGuard);
  if (cooloff.kind !== 'continue') return { kind: 'refused', outcome: refused('auth', cooloff) };
  if (deps.agentSources.match(req.sourceAddress)) return { kind: 'admitted', trunk: null };
  const source = identifyTrunk(req, deps.store.trunks(), deps.silentDropUnknownSources, deps.flood);
  if (source.kind !== 'continue') return { kind: 'refused', outcome: refused('source', source) };
  return { kind: 'admitted', trunk: source.value };
}

export function evaluateRequest(req: SipRequestView, deps: RequestPipelineDeps): RequestOutcome {
  const admitted = admitSource(req, deps);
  if (admitted.kind === 'refused') return admitted.outcome;
  const trunk = admitted.trunk ?? undefined;

  const method = checkMethod(req);
  if (method.kind !== 'continue') return refused('method', method, trunk);
  if (method.value === 'INVITE') throw new Error('evaluateRequest: INVITEs go through the call pipelines');

  const protocol = checkProtocol(req, deps.protocol ?? DEFAULT_PROTOCOL_POLICY, { forwards: false });
  if (protocol.kind !== 'continue') return refused('protocol', protocol, trunk);
  return { kind: 'accept', method: method.value, trunk: admitted.trunk };
}

/**
 * A message drachtio-srf cannot parse (see src/sip/unparseable.ts): only its source is known.
 * It passes the same source gates as any request (so a flood of them is dropped, not answered),
 * then gets 400.
 */
export function evaluateUnparseable(sourceAddress: string, deps: RequestPipelineDeps): RequestRefusal {
  const view: SipRequestView = {
    method: '',
    callId: '',
    sourceAddress,
    transport: '',
    requestUri: '',
    to: '',
    from: '',
    body: undefined,
    contentType: undefined,
    header: () => undefined,
  };
  const admitted = admitSource(view, deps);
  if (admitted.kind === 'refused') return admitted.outcome;
  return refused('protocol', reject('message_unparseable', 'message could not be parsed'), admitted.trunk ?? undefined);
}
