/**
 * The gaps in drachtio-srf's bundled type declarations, filled in one place. Where the runtime
 * signature differs from the declared one (progress callbacks get (err, req); requests are
 * EventEmitters), the corrected type lives here and code casts through these helpers only.
 */
import { createRequire } from 'node:module';
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
  /** the B leg's offer; a function is called with the A leg's ACK SDP in a late-offer (3pcc) call */
  localSdpB?: string | ((ackSdp: string) => Promise<string>);
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
export function onMethod(srf: Srf, method: 'options' | 'register' | 'subscribe' | 'publish' | 'message' | 'info' | 'notify', handler: RequestHandler): void {
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
interface PingInternals {
  readonly mapServer: Map<import('node:net').Socket, { readonly pendingPingRequests: Set<string> }>;
  readonly wp: { send(socket: import('node:net').Socket, msg: string): string };
}

function pingAgentOf(srf: Srf): PingInternals | undefined {
  return (srf as unknown as { _app?: { client?: PingInternals } })._app?.client;
}

/**
 * A ping on every connection to drachtio-server whose pong drachtio-srf swallows as its own; the
 * returned check tells whether every ping sent by the previous call was answered. drachtio-srf's
 * own pings have no timeout, so a server that stopped reading the app would go unnoticed.
 */
export function pingDrachtio(srf: Srf): { answered: () => boolean; drop: () => void } {
  const agent = pingAgentOf(srf);
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

/*
 * drachtio-srf internals the edge relies on, typed here and nowhere else (drachtio-srf 5.0.x,
 * lib/drachtio-agent.js). Each helper checks the shape it expects and does nothing when it differs.
 */

/** Per connection to drachtio-server: INVITEs received that have no final response yet, by Call-ID. */
interface AgentConnectionState {
  readonly pendingNetworkInvites: Map<string, { readonly req: unknown; readonly res: unknown }>;
}

interface AgentInternals {
  readonly mapServer: Map<unknown, AgentConnectionState>;
}

function agentOf(srf: Srf): AgentInternals | null {
  const client = (srf as unknown as { _app?: { client?: Partial<AgentInternals> } })._app?.client;
  return client?.mapServer instanceof Map ? (client as AgentInternals) : null;
}

/**
 * Forgets an INVITE the edge decided not to answer. drachtio-srf keeps every incoming INVITE in
 * its pendingNetworkInvites table until a final response is sent (to route a CANCEL to it), so
 * without this each dropped INVITE stays there for the life of the connection. Only the entry
 * of this very request is removed. true when one was.
 */
export function releaseUnanswered(res: SrfResponse): boolean {
  const r = res as unknown as { agent?: Partial<AgentInternals>; socket?: unknown; req?: SrfRequest };
  const state = r.agent?.mapServer instanceof Map ? r.agent.mapServer.get(r.socket) : undefined;
  if (!state || r.req?.method !== 'INVITE') return false;
  const callId = r.req.get('Call-ID');
  if (state.pendingNetworkInvites.get(callId)?.res !== res) return false;
  state.pendingNetworkInvites.delete(callId);
  return true;
}

/** INVITEs drachtio-srf holds without a final response, over all connections (the metric). */
export function pendingInviteCount(srf: Srf): number {
  const agent = agentOf(srf);
  if (!agent) return 0;
  let n = 0;
  for (const state of agent.mapServer.values()) n += state.pendingNetworkInvites?.size ?? 0;
  return n;
}

/** A SIP message from the network that drachtio-srf could not parse (its text is never logged). */
export interface UnparseableMessage {
  readonly text: string;
  readonly transport: string;
  readonly sourceAddress: string;
  readonly sourcePort: string;
  /** a request (answerable) rather than a response */
  readonly isRequest: boolean;
}

/** Answers the message's transaction through drachtio-server (requests only). */
export type UnparseableReply = (status: number, phrase: string, headers: Record<string, string>) => void;
export type UnparseableHandler = (message: UnparseableMessage, reply: UnparseableReply | null) => void;

interface ParsedMessage {
  readonly method?: string;
  readonly status?: number;
  readonly headers: Readonly<Record<string, unknown>>;
}
type ParseFn = (text: string, lazy?: boolean) => ParsedMessage | undefined;
interface AgentPrototype {
  _onMsg(this: AgentInstance, socket: unknown, msg: string): unknown;
}
interface AgentInstance {
  readonly puntUpTheMiddleware: unknown;
  sendMessage(socket: unknown, msg: string, opts: { stackTxnId: string; headers: Record<string, string> }): unknown;
}

const unparseableHandlers = new WeakMap<object, UnparseableHandler>();
let interceptInstalled = false;

/** Headers without which drachtio-srf's Request (or our view of it) throws. */
const REQUEST_HEADERS = ['call-id', 'cseq', 'from', 'to', 'via'] as const;
const RESPONSE_HEADERS = ['call-id', 'cseq'] as const;

/**
 * drachtio-srf can read it: it parsed, has the headers drachtio-srf needs, and its body is as
 * long as Content-Length says (drachtio-srf would silently cut the declared length down to what
 * arrived; RFC 3261 18.3 makes a shorter body an error).
 */
function complete(text: string, parsed: ParsedMessage | undefined): boolean {
  if (!parsed || typeof parsed.headers !== 'object' || parsed.headers === null) return false;
  const needed = parsed.method ? REQUEST_HEADERS : parsed.status ? RESPONSE_HEADERS : null;
  if (needed === null || !needed.every((h) => typeof parsed.headers[h] === 'string' && (parsed.headers[h] as string).length > 0)) return false;
  const declared = parsed.headers['content-length'];
  if (typeof declared !== 'string') return true;
  const length = Number(declared.trim());
  if (!Number.isInteger(length) || length < 0) return false;
  const start = text.indexOf('\r\n\r\n');
  if (start === -1) return length === 0;
  const chars = text.length - start - 4;
  // UTF-8 takes at least one byte per UTF-16 unit: count bytes only when the characters fall short
  return length <= chars || length <= Buffer.byteLength(text.slice(start + 4));
}

/**
 * Routes the SIP messages that drachtio-srf cannot parse to `handler` instead of its own
 * console.error, which prints the whole message (digest responses, SDP keys) for any source, as
 * fast as they arrive. drachtio-srf parses each message from drachtio-server once
 * (DrachtioAgent#_onMsg); this wraps that method: it parses first, hands a message it cannot
 * read (or one missing Call-ID, CSeq, From, To or Via, which drachtio-srf would throw on) to the
 * handler, and passes the parse result of every other message on to drachtio-srf, so nothing is
 * parsed twice. Installed once per process; the handler is per Srf instance.
 */
export function onUnparseable(srf: Srf, handler: UnparseableHandler): void {
  const app = (srf as unknown as { _app?: object })._app;
  if (!app) throw new Error('onUnparseable: drachtio-srf has no app object');
  unparseableHandlers.set(app, handler);
  if (interceptInstalled) return;
  const load = createRequire(import.meta.url);
  const parser = load('drachtio-srf/lib/sip-parser/parser.js') as { parseSipMessage: ParseFn };
  const Agent = load('drachtio-srf/lib/drachtio-agent.js') as { prototype: AgentPrototype };
  const parse = parser.parseSipMessage;
  const onMsg = Agent.prototype._onMsg;
  if (typeof parse !== 'function' || typeof onMsg !== 'function') throw new Error('onUnparseable: drachtio-srf internals changed');
  interceptInstalled = true;

  // The result of the parse done below, taken by drachtio-srf's own parse of the same text.
  let handoff: { text: string; parsed: ParsedMessage } | null = null;
  parser.parseSipMessage = function (text: string, lazy?: boolean) {
    if (handoff !== null && lazy === true && text === handoff.text) {
      const { parsed } = handoff;
      handoff = null;
      return parsed;
    }
    return parse(text, lazy);
  };

  Agent.prototype._onMsg = function (this: AgentInstance, socket: unknown, msg: string) {
    const handle = unparseableHandlers.get(this.puntUpTheMiddleware as object);
    const pos = typeof msg === 'string' ? msg.indexOf('\r') : -1;
    if (handle && pos > 0) {
      // leader: msgId|sip|source|length|transport|address|port|time|transactionId|dialogId...
      const token = msg.slice(0, pos).split('|');
      if (token[1] === 'sip' && token[2] === 'network') {
        const text = msg.slice(pos + 2);
        const parsed = parse(text, true);
        if (!complete(text, parsed)) {
          const transactionId = token[8] ?? '';
          const isRequest = !/^SIP\//.test(text);
          const reply: UnparseableReply | null =
            isRequest && transactionId
              ? (status, phrase, headers) => this.sendMessage(socket, `SIP/2.0 ${status} ${phrase}\r\n\r\n`, { stackTxnId: transactionId, headers })
              : null;
          handle({ text, transport: token[4] ?? '', sourceAddress: token[5] ?? '', sourcePort: token[6] ?? '', isRequest }, reply);
          return undefined;
        }
        handoff = { text, parsed: parsed! };
      }
    }
    try {
      return onMsg.call(this, socket, msg);
    } finally {
      handoff = null;
    }
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

/**
 * Asks drachtio-server (inbound connections) to stop selecting this app for new requests outside a
 * dialog (`remove_route`; drachtio 0.9.x drops every verb of the app at once): new INVITEs go to the
 * other apps connected to the same server, while requests inside this app's dialogs still reach it.
 * drachtio-srf has it as Srf#unregisterForMessages, undeclared.
 */
export function stopNewRequests(srf: Srf, method: 'invite'): void {
  (srf as unknown as { unregisterForMessages(verb: string): void }).unregisterForMessages(method);
}
