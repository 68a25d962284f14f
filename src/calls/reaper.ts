import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { dialogConnected, type Dialog } from '../types/drachtio.js';
import type { ActiveCalls } from './activeCalls.js';
import type { AnswerWatch } from './answerWatch.js';
import { hangUp } from './dialogs.js';
import type { EndCause } from './lifecycle.js';
import type { CallSession } from './session.js';

export type ReapReason = 'leg_gone' | 'bridge_stuck' | 'setup_stuck';

export interface ReaperSettings {
  readonly intervalMs: number;
  /** a call not answered after this long is closed */
  readonly maxSetupMs: number;
  /** an answered call whose bridge never completed (late offer without ACK) is closed after this long */
  readonly maxBridgeMs: number;
}

/** A decision for one call, made from its state alone (pure: tested without SIP). */
export function reapDecision(
  state: { readonly state: CallSession['state']; readonly startedAt: number; readonly answeredAt: number | null; readonly legs: readonly [Dialog, Dialog] | null; readonly callerLeg: Dialog | undefined },
  now: number,
  settings: ReaperSettings,
  connected: (leg: Dialog) => boolean = dialogConnected,
): { reason: ReapReason; cause: EndCause } | null {
  if (state.state === 'ended') return null;
  if (state.legs) {
    const [caller, callee] = state.legs;
    if (!connected(caller)) return { reason: 'leg_gone', cause: 'caller_hangup' };
    if (!connected(callee)) return { reason: 'leg_gone', cause: 'callee_hangup' };
    return null;
  }
  if (state.answeredAt !== null) {
    if (state.callerLeg && !connected(state.callerLeg)) return { reason: 'leg_gone', cause: 'caller_hangup' };
    return now - state.answeredAt > settings.maxBridgeMs ? { reason: 'bridge_stuck', cause: 'error' } : null;
  }
  return now - state.startedAt > settings.maxSetupMs ? { reason: 'setup_stuck', cause: 'failed' } : null;
}

/**
 * The safety net under every call: whatever ordering of ACK, BYE, CANCEL and timeouts got past the
 * call's own handlers, a call whose dialogs are gone is closed within one interval (slots released,
 * billing closed), never left to the max call duration.
 */
export class CallReaper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly calls: ActiveCalls,
    private readonly answers: AnswerWatch,
    private readonly settings: ReaperSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.sweep(Date.now()), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Closes every call that must go; returns how many. */
  sweep(now: number): number {
    let reaped = 0;
    for (const session of this.calls.list()) {
      const callerLeg = this.answers.callerLeg(session);
      const decision = reapDecision(
        { state: session.state, startedAt: session.info.startedAt, answeredAt: session.answeredAtMs, legs: session.legs, callerLeg },
        now,
        this.settings,
      );
      if (!decision) continue;
      const legs = session.legs;
      if (!session.end(decision.cause)) continue;
      reaped++;
      if (legs) void hangUp(legs[0], legs[1]);
      else if (callerLeg && dialogConnected(callerLeg)) callerLeg.destroy();
      this.metrics.callsReaped.inc({ reason: decision.reason });
      this.logger.warn({ callId: session.info.callId, reason: decision.reason, cause: decision.cause }, 'call closed by the safety net');
    }
    return reaped;
  }
}
