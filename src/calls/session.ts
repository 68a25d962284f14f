import type { Dialog } from '../types/drachtio.js';
import type { CallEnd, CallInfo, CallLifecycle, EndCause, EndDetail } from './lifecycle.js';

export type CallState = 'trying' | 'ringing' | 'answered' | 'ended';

const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  trying: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

/**
 * One call's state with guarded transitions; lifecycle events fire exactly once each, and
 * cleanups registered at the start run once when the call ends, whatever path ends it.
 */
export class CallSession {
  private current: CallState = 'trying';
  private answeredAt: number | null = null;
  private readonly cleanups: (() => void)[] = [];
  private hangupLegs: (() => Promise<void>) | null = null;
  private bridged: readonly [Dialog, Dialog] | null = null;
  private endDetail: (() => Promise<EndDetail>) | null = null;

  constructor(
    readonly info: CallInfo,
    private readonly lifecycle: CallLifecycle,
    private readonly now: () => number = Date.now,
  ) {
    lifecycle.started(info);
  }

  get state(): CallState {
    return this.current;
  }

  get answeredAtMs(): number | null {
    return this.answeredAt;
  }

  onEnd(cleanup: () => void): void {
    if (this.current === 'ended') cleanup();
    else this.cleanups.push(cleanup);
  }

  /** The two legs the call is bridged over now (caller's first), once answered. */
  get legs(): readonly [Dialog, Dialog] | null {
    return this.bridged;
  }

  setLegs(caller: Dialog, callee: Dialog): void {
    this.bridged = [caller, callee];
  }

  /** How to tear down the bridged legs (set once the call is answered). */
  setHangup(hangup: () => Promise<void>): void {
    this.hangupLegs = hangup;
  }

  /** Where the last word on an ending call comes from (the media anchor's figures), read by finish/terminate. */
  setEndDetail(provider: () => Promise<EndDetail>): void {
    this.endDetail = provider;
  }

  /** Ends the call from the edge's side (drain timeout, max duration, dead media): BYE on both legs. */
  async terminate(cause: EndCause, detail?: EndDetail): Promise<boolean> {
    const hangup = this.hangupLegs;
    if (!(await this.finish(cause, detail))) return false;
    await hangup?.();
    return true;
  }

  /** end() after reading the end detail, when there is a provider; resolves like end(). */
  async finish(cause: EndCause, detail?: EndDetail): Promise<boolean> {
    if (this.current === 'ended') return false;
    const provided = this.endDetail ? await this.endDetail().catch(() => ({})) : {};
    return this.end(cause, undefined, { ...provided, ...detail });
  }

  ringing(): void {
    if (this.current === 'trying') this.current = 'ringing';
  }

  answered(): boolean {
    if (!this.move('answered')) return false;
    this.answeredAt = this.now();
    this.lifecycle.answered(this.info, this.answeredAt);
    return true;
  }

  /** Ends the call once; later calls are ignored and return false. */
  end(cause: EndCause, status?: number, detail: EndDetail = {}): boolean {
    if (!this.move('ended')) return false;
    const answered = this.answeredAt !== null;
    const endedAt = answered ? Math.max(this.answeredAt!, Math.min(this.now(), detail.endedAt ?? Infinity)) : this.now();
    const end: CallEnd = {
      endedAt,
      durationMs: answered ? endedAt - this.answeredAt! : 0,
      cause,
      answered,
      ...(status !== undefined ? { status } : {}),
      ...(detail.media ? { media: detail.media } : {}),
    };
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // a failing cleanup must not keep the others from running
      }
    }
    this.lifecycle.ended(this.info, end);
    return true;
  }

  private move(next: CallState): boolean {
    if (!TRANSITIONS[this.current].includes(next)) return false;
    this.current = next;
    return true;
  }
}
