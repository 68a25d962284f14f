import type { TelephonyKind } from '../domain/model.js';
import type { MediaSummary } from '../media/summary.js';

export type Direction = 'inbound' | 'outbound';

/** What every lifecycle listener (billing, limits, active-call registry) knows of a call. */
export interface CallInfo {
  readonly callId: string;
  readonly direction: Direction;
  readonly workspaceId: string;
  readonly trunkId: string;
  readonly trunkKind: 'managed' | 'byoc';
  readonly numberId: string | null;
  readonly telephony: TelephonyKind | null;
  readonly agentId: string | null;
  readonly from: string;
  readonly to: string;
  /** Browser test calls: came in on the browser entry with a test-call token (billed as browser_test) */
  readonly browserTest: boolean;
  readonly startedAt: number;
}

export type EndCause =
  | 'caller_hangup'
  | 'callee_hangup'
  | 'max_duration'
  | 'shutdown'
  | 'cancelled'
  | 'failed'
  | 'edge_restart'
  | 'media_timeout'
  /** a leg's session timer (RFC 4028) ran out: no refresh came, or a refresh failed */
  | 'session_timer'
  | 'error';

/** What the media anchor adds when a call ends: the end time of a dead call, the media figures. */
export interface EndDetail {
  /** when the call really ended (the last media of a call ended for media timeout); default now */
  readonly endedAt?: number;
  readonly media?: MediaSummary;
}

export interface CallEnd {
  readonly endedAt: number;
  /** ms from answer to end; 0 when never answered */
  readonly durationMs: number;
  readonly cause: EndCause;
  /** the final SIP status for unanswered calls */
  readonly status?: number;
  readonly answered: boolean;
  /** media figures of an anchored call */
  readonly media?: MediaSummary;
}

/** A call the pipeline refused (never charged; billing records the attempt). */
export interface RejectedAttempt {
  readonly callId: string;
  readonly direction: Direction;
  readonly reason: string;
  /** null when the request was dropped without an answer */
  readonly status: number | null;
  readonly trunkId: string | null;
  readonly workspaceId: string | null;
  readonly from: string;
  readonly to: string;
  readonly at: number;
}

export interface LifecycleListener {
  rejected?(attempt: RejectedAttempt): void;
  started?(call: CallInfo): void;
  answered?(call: CallInfo, answeredAt: number): void;
  ended?(call: CallInfo, end: CallEnd): void;
}

/**
 * The one place call lifecycle events come from. Listeners must not throw into the SIP path:
 * an error in one is logged and does not stop the others.
 */
export class CallLifecycle {
  private readonly listeners: LifecycleListener[] = [];

  constructor(private readonly onListenerError: (err: unknown, event: string) => void) {}

  attach(listener: LifecycleListener): void {
    this.listeners.push(listener);
  }

  rejected(attempt: RejectedAttempt): void {
    this.each('rejected', (l) => l.rejected?.(attempt));
  }

  started(call: CallInfo): void {
    this.each('started', (l) => l.started?.(call));
  }

  answered(call: CallInfo, answeredAt: number): void {
    this.each('answered', (l) => l.answered?.(call, answeredAt));
  }

  ended(call: CallInfo, end: CallEnd): void {
    this.each('ended', (l) => l.ended?.(call, end));
  }

  private each(event: string, fn: (l: LifecycleListener) => void): void {
    for (const listener of this.listeners) {
      try {
        fn(listener);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
