import type { TestCallClaims } from '../browser/token.js';
import type { TestCallTokenStore } from '../browser/tokenStore.js';
import type { PhoneNumberRecord, TrunkRecord } from '../domain/model.js';
import type { CallLimiter, Lease } from '../limits/limiter.js';
import type { RouteStore } from '../stores/routeStore.js';
import { checkBrowserOffer } from './steps/browserMedia.js';
import { admitCall } from './steps/limits.js';
import { checkProtocol, DEFAULT_PROTOCOL_POLICY, type ProtocolPolicy } from './steps/protocol.js';
import { checkScanner } from './steps/scanner.js';
import { checkInviteShape } from './steps/shape.js';
import { resolveTestCallTarget } from './steps/testCallTarget.js';
import { checkTestCallToken, consumeTestCallToken, type TokenPolicy } from './steps/testCallToken.js';
import type { AgentTarget, Decision, Refusal, SipRequestView } from './types.js';

export interface BrowserPipelineDeps {
  readonly tokens: TokenPolicy & { readonly store: TestCallTokenStore };
  readonly store: RouteStore;
  readonly limiter: CallLimiter;
  /** the browser entry as a trunk (limits, call records, billing) */
  readonly entry: TrunkRecord;
  readonly scannerPatterns: readonly RegExp[];
  readonly maxMessageBytes: number;
  readonly protocol?: ProtocolPolicy;
  readonly now?: () => number;
}

/** Everything the bridge needs once the pipeline accepted a browser test call. */
export interface BrowserPlan {
  readonly entry: TrunkRecord;
  readonly claims: TestCallClaims;
  /** the token's number (its inbound routing is followed); null for a token naming an agent */
  readonly number: PhoneNumberRecord | null;
  readonly targets: readonly AgentTarget[];
  readonly voicemailMessage: string | null;
  /** the browser's WebRTC offer */
  readonly offerSdp: string;
}

export type BrowserStep = 'scanner' | 'shape' | 'protocol' | 'token' | 'media' | 'route' | 'limits';

export type BrowserOutcome =
  | { readonly kind: 'accept'; readonly plan: BrowserPlan; readonly lease: Lease }
  | (Refusal & { readonly step: BrowserStep; readonly trunk: TrunkRecord });

/**
 * The pipeline of the browser entry (drachtio's ws/wss listeners): no trunk by source address,
 * a signed single-use token instead. The token is marked used as soon as its signature and
 * expiry hold, so a replay is refused as used whatever became of the first INVITE.
 */
export async function evaluateBrowser(req: SipRequestView, deps: BrowserPipelineDeps): Promise<BrowserOutcome> {
  const trunk = deps.entry;
  const refused = (step: BrowserStep, decision: Exclude<Decision<unknown>, { kind: 'continue' }>): BrowserOutcome => ({ ...decision, step, trunk });

  const scanner = checkScanner(req, deps.scannerPatterns);
  if (scanner.kind !== 'continue') return refused('scanner', scanner);
  const shape = checkInviteShape(req, deps.maxMessageBytes);
  if (shape.kind !== 'continue') return refused('shape', shape);
  const protocol = checkProtocol(req, deps.protocol ?? DEFAULT_PROTOCOL_POLICY, { forwards: true });
  if (protocol.kind !== 'continue') return refused('protocol', protocol);

  const token = checkTestCallToken(req, deps.tokens, (deps.now ?? Date.now)());
  if (token.kind !== 'continue') return refused('token', token);
  const used = await consumeTestCallToken(token.value, deps.tokens.store);
  if (used.kind !== 'continue') return refused('token', used);
  const claims = used.value;

  const offer = checkBrowserOffer(req);
  if (offer.kind !== 'continue') return refused('media', offer);

  const route = await resolveTestCallTarget(claims, deps.store);
  if (route.kind !== 'continue') return refused('route', route);

  const admitted = await admitCall(trunk, claims.workspaceId, req.callId, deps.limiter);
  if (admitted.kind !== 'continue') return refused('limits', admitted);

  return {
    kind: 'accept',
    lease: admitted.value,
    plan: { entry: trunk, claims, number: route.value.number, targets: route.value.targets, voicemailMessage: route.value.voicemailMessage, offerSdp: offer.value },
  };
}
