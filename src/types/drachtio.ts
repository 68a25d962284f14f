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

/**
 * Asks drachtio-server (inbound connections) to stop selecting this app for new requests outside a
 * dialog (`remove_route`; drachtio 0.9.x drops every verb of the app at once): new INVITEs go to the
 * other apps connected to the same server, while requests inside this app's dialogs still reach it.
 * drachtio-srf has it as Srf#unregisterForMessages, undeclared.
 */
export function stopNewRequests(srf: Srf, method: 'invite'): void {
  (srf as unknown as { unregisterForMessages(verb: string): void }).unregisterForMessages(method);
}
