/** The part of rtpengine-client (ng protocol over UDP, bencoded) the media anchor uses. */
declare module 'rtpengine-client' {
  import { EventEmitter } from 'node:events';

  export interface NgDestination {
    port: number;
    host: string;
  }

  /** A bencoded ng reply; `result` is "ok", "pong", "error" (with "error-reason") or "load limit". */
  export type NgReply = Record<string, unknown> & { result?: string; 'error-reason'?: string; sdp?: string };

  export class Client extends EventEmitter {
    /** timeout: ms per command; past it the promise rejects with an RtpEngineError */
    constructor(options: { timeout?: number; localPort?: number; localAddress?: string; rejectOnFailure?: boolean });
    ping(dest: NgDestination): Promise<NgReply>;
    offer(dest: NgDestination, params: Record<string, unknown>): Promise<NgReply>;
    answer(dest: NgDestination, params: Record<string, unknown>): Promise<NgReply>;
    delete(dest: NgDestination, params: Record<string, unknown>): Promise<NgReply>;
    query(dest: NgDestination, params: Record<string, unknown>): Promise<NgReply>;
    close(): void;
  }

  export class RtpEngineError extends Error {}
}
