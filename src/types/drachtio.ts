/**
 * The gaps in drachtio-srf's bundled type declarations, filled in one place. Where the runtime
 * signature differs from the declared one (progress callbacks get (err, req); requests are
 * EventEmitters), the corrected type lives here and code casts through these helpers only.
 */
import type Srf from 'drachtio-srf';

export type SrfRequest = Srf.SrfRequest;
export type SrfResponse = Srf.SrfResponse;
export type Dialog = Srf.Dialog;

export interface B2BUAProgress {
  /** called once the B-leg INVITE is sent: (err, the request that can be cancelled) */
  cbRequest?: (err: unknown, uacReq: CancellableRequest) => void;
  cbProvisional?: (res: SrfResponse) => void;
  cbFinalizedUac?: (uac: Dialog) => void;
}

export interface CancellableRequest extends SrfRequest {
  cancel(callback?: (err: unknown, req: SrfRequest) => void): void;
  cancel(opts: { headers?: Record<string, string> }, callback?: (err: unknown, req: SrfRequest) => void): void;
}

export interface B2BUAOptions extends Srf.CreateB2BUAOptions {
  localSdpB?: string;
  /** user part of the B leg's From (drachtio builds the header) */
  callingNumber?: string;
  /** user part of the B leg's To */
  calledNumber?: string;
}

export type CreateB2BUA = (req: SrfRequest, res: SrfResponse, uri: string, opts: B2BUAOptions, progress?: B2BUAProgress) => Promise<{ uas: Dialog; uac: Dialog }>;

export function createB2BUA(srf: Srf): CreateB2BUA {
  return (srf.createB2BUA as unknown as CreateB2BUA).bind(srf);
}

/** Requests are EventEmitters at run time ('cancel', 'update' before answer). */
export interface EmittingRequest extends SrfRequest {
  removeAllListeners(event: string): this;
  on(event: 'cancel', listener: (cancelReq: SrfRequest) => void): void;
  on(event: 'response', callback: (res?: SrfResponse) => void): void;
}

export function emitting(req: SrfRequest): EmittingRequest {
  return req as EmittingRequest;
}

type RequestHandler = (req: SrfRequest, res: SrfResponse) => void;

/** srf.options(), srf.register() ... exist at run time (delegated per SIP method) but are not declared. */
export function onMethod(srf: Srf, method: 'options' | 'register' | 'subscribe' | 'message' | 'info' | 'notify', handler: RequestHandler): void {
  (srf as unknown as Record<string, (h: RequestHandler) => void>)[method]!(handler);
}

/** The run-time fields of drachtio-srf's Dialog the edge reads (undeclared in its types). */
interface DialogInternals {
  readonly type: 'uas' | 'uac';
  readonly connected: boolean;
  readonly sip: { readonly callId: string };
  handle(req: SrfRequest, res: SrfResponse): void;
}

function internals(dialog: Dialog): DialogInternals {
  return dialog as unknown as DialogInternals;
}

export const dialogType = (dialog: Dialog): 'uas' | 'uac' => internals(dialog).type;
export const dialogCallId = (dialog: Dialog): string => internals(dialog).sip.callId;
/** false once the dialog was ended by either side (BYE sent or received). */
export const dialogConnected = (dialog: Dialog): boolean => internals(dialog).connected;

/**
 * Calls `added` for every dialog drachtio-srf registers, synchronously at registration: before
 * drachtio-srf hands the dialog to whoever created it, so before any request inside it.
 */
export function observeDialogs(srf: Srf, added: (dialog: Dialog) => void): void {
  const registry = srf as unknown as { addDialog(dialog: Dialog): void };
  const register = registry.addDialog.bind(srf);
  registry.addDialog = (dialog: Dialog): void => {
    register(dialog);
    added(dialog);
  };
}

const held = new WeakMap<Dialog, () => void>();

/**
 * Holds every request but ACK that reaches this dialog until `releaseRequests(dialog)`: a BYE
 * sent the instant the call is answered then waits until the edge listens to the dialog instead
 * of ending it unseen. ACKs pass (a late-offer bridge completes on the ACK).
 */
export function holdRequests(dialog: Dialog): void {
  if (held.has(dialog)) return;
  const d = internals(dialog);
  const handle = d.handle.bind(dialog);
  const queue: [SrfRequest, SrfResponse][] = [];
  d.handle = (req, res) => {
    if (req.method === 'ACK') handle(req, res);
    else queue.push([req, res]);
  };
  held.set(dialog, () => {
    d.handle = handle;
    for (const [req, res] of queue.splice(0)) handle(req, res);
  });
}

/** Lets the requests held by `holdRequests` through, in arrival order (no-op when none held). */
export function releaseRequests(dialog: Dialog): void {
  const release = held.get(dialog);
  if (!release) return;
  held.delete(dialog);
  release();
}

/** drachtio-srf's connection internals the stall probe uses (the agent behind srf, per socket). */
interface AgentInternals {
  readonly mapServer: Map<import('node:net').Socket, { readonly pendingPingRequests: Set<string> }>;
  readonly wp: { send(socket: import('node:net').Socket, msg: string): string };
}

function agentOf(srf: Srf): AgentInternals | undefined {
  return (srf as unknown as { _app?: { client?: AgentInternals } })._app?.client;
}

/**
 * A ping on every connection to drachtio-server whose pong drachtio-srf swallows as its own; the
 * returned check tells whether every ping sent by the previous call was answered. drachtio-srf's
 * own pings have no timeout, so a server that stopped reading the app would go unnoticed.
 */
export function pingDrachtio(srf: Srf): { answered: () => boolean; drop: () => void } {
  const agent = agentOf(srf);
  const sent: [Set<string>, string][] = [];
  if (agent) {
    for (const [socket, obj] of agent.mapServer) {
      const msgId = agent.wp.send(socket, 'ping');
      obj.pendingPingRequests.add(msgId);
      sent.push([obj.pendingPingRequests, msgId]);
    }
  }
  return {
    answered: () => sent.every(([pending, msgId]) => !pending.has(msgId)),
    /** closes the connections (drachtio-srf then reconnects with backoff) */
    drop: () => {
      for (const socket of agent?.mapServer.keys() ?? []) socket.destroy();
    },
  };
}

/** createUAC's progress callbacks as they are called at run time: cbRequest gets (err, request). */
export interface UacProgress {
  cbRequest?: (err: unknown, req: CancellableRequest) => void;
  cbProvisional?: (res: SrfResponse) => void;
}

export interface UacOptions extends Srf.CreateUACOptions {
  /** user part of the From (drachtio builds the header) */
  callingNumber?: string;
  /** user part of the To */
  calledNumber?: string;
  /** with no localSdp: hand back the 200's offer unacknowledged (3PCC, RFC 3725 flow I) */
  noAck?: boolean;
}

/**
 * What createUAC gives for an INVITE without SDP and `noAck: true` when the 200 carries an offer:
 * the offer, `ack(answer)` that sends the ACK with the answer and makes the dialog, and `destroy()`
 * that ACKs and BYEs a leg given up before it was acknowledged.
 */
export interface UnacknowledgedAnswer {
  readonly sdp: string;
  ack(localSdp: string): Promise<Dialog>;
  destroy(): Promise<void>;
}

export type CreateUAC = (uri: string, opts: UacOptions, progress?: UacProgress) => Promise<Dialog | UnacknowledgedAnswer>;

export function createUAC(srf: Srf): CreateUAC {
  return (srf.createUAC as unknown as CreateUAC).bind(srf);
}

export function isUnacknowledged(result: Dialog | UnacknowledgedAnswer): result is UnacknowledgedAnswer {
  const r = result as Partial<UnacknowledgedAnswer>;
  return typeof r.sdp === 'string' && typeof r.ack === 'function';
}
