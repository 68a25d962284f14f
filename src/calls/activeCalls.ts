import type { CallSession } from './session.js';

/** The calls this instance carries right now: for GET /v1/calls and for draining at shutdown. */
export class ActiveCalls {
  private readonly sessions = new Map<string, CallSession>();
  private readonly idleWaiters = new Set<() => void>();

  track(session: CallSession): void {
    this.sessions.set(session.info.callId, session);
    session.onEnd(() => {
      this.sessions.delete(session.info.callId);
      if (this.sessions.size === 0) for (const wake of this.idleWaiters) wake();
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  list(): CallSession[] {
    return [...this.sessions.values()];
  }

  /** Resolves true when no call is left, false when timeoutMs passed first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.sessions.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(idle);
      };
      const wake = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(wake);
    });
  }

  /** Ends every call still up (BYE on both legs of answered ones). */
  async terminateAll(): Promise<number> {
    const ended = await Promise.all(this.list().map((session) => session.terminate('shutdown')));
    return ended.filter(Boolean).length;
  }
}
