import type { AgentRecord, PhoneNumberRecord, TrunkRecord } from '../domain/model.js';
import type { Lease } from '../limits/limiter.js';
import type { RejectReason } from './reasons.js';

/** What the pipeline reads of a SIP request: the same for a live INVITE and a route-test dry run. */
export interface SipRequestView {
  readonly method: string;
  readonly callId: string;
  readonly sourceAddress: string;
  /** udp | tcp | tls | wss, as drachtio reports it (lower case) */
  readonly transport: string;
  readonly requestUri: string;
  readonly to: string;
  readonly from: string;
  /** the body as sent: SDP, multipart (SDP beside ISUP), ...; read it with sdpOfRequest */
  readonly body: string | undefined;
  /** the Content-Type header as sent */
  readonly contentType: string | undefined;
  header(name: string): string | undefined;
}

export type Decision<T> =
  | { readonly kind: 'continue'; readonly value: T }
  | { readonly kind: 'reject'; readonly reason: RejectReason; readonly detail: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly kind: 'drop'; readonly reason: RejectReason; readonly detail: string };

export type Refusal = Exclude<Decision<never>, { kind: 'continue' }>;

export const proceed = <T>(value: T): Decision<T> => ({ kind: 'continue', value });
export const reject = (reason: RejectReason, detail: string, headers?: Record<string, string>): Refusal =>
  headers ? { kind: 'reject', reason, detail, headers } : { kind: 'reject', reason, detail };
export const drop = (reason: RejectReason, detail: string): Refusal => ({ kind: 'drop', reason, detail });

export interface CalledNumber {
  /** As the carrier sent it (Request-URI or To user, or the whole tel: URI) */
  readonly raw: string;
  readonly e164: string;
  /**
   * false: the user part was already written as E.164 and is used as sent, not yet read by
   * libphonenumber (see extractDid); the pipeline reads it if the lookup does not find it.
   */
  readonly read: boolean;
}

export interface Caller {
  readonly raw: string;
  /** E.164 when the From user reads as a phone number */
  readonly e164: string | null;
}

export interface AgentTarget {
  readonly role: 'primary' | 'fallback';
  readonly agent: AgentRecord;
}

/** Everything the bridge needs once the pipeline accepted an inbound call. */
export interface InboundPlan {
  readonly trunk: TrunkRecord;
  readonly did: CalledNumber;
  readonly caller: Caller;
  readonly number: PhoneNumberRecord;
  readonly targets: readonly AgentTarget[];
  readonly voicemailMessage: string | null;
  /** the SDP offer the agent leg carries (only the SDP of a multipart body); undefined: late offer */
  readonly offerSdp: string | undefined;
}

export type InboundStep = 'scanner' | 'source' | 'auth' | 'protocol' | 'shape' | 'transport' | 'media' | 'did' | 'route' | 'limits';

export type InboundOutcome =
  /** lease: the call slot taken by the limits step (null in a dry run); release it when the call ends */
  | { readonly kind: 'accept'; readonly plan: InboundPlan; readonly lease: Lease | null }
  | (Refusal & { readonly step: InboundStep; readonly trunk?: TrunkRecord });

/** Everything the outbound bridge needs once the pipeline accepted an agent's call. */
export interface OutboundPlan {
  readonly agent: AgentRecord;
  /** the caller ID: a number of the agent's workspace */
  readonly callerNumber: PhoneNumberRecord;
  readonly destination: { readonly e164: string; readonly country: string | null };
  readonly trunk: TrunkRecord;
  /** the SDP offer the carrier leg carries (only the SDP of a multipart body); undefined: late offer */
  readonly offerSdp: string | undefined;
}

export type OutboundStep = 'protocol' | 'shape' | 'agent' | 'caller_id' | 'destination' | 'trunk' | 'country' | 'dnc' | 'media' | 'limits';

export type OutboundOutcome =
  | { readonly kind: 'accept'; readonly plan: OutboundPlan; readonly lease: Lease | null }
  | (Refusal & { readonly step: OutboundStep; readonly trunk?: TrunkRecord });
