/**
 * A rate limit for log lines about hostile input (unparseable messages, dropped requests): at most
 * `perSecond` lines per kind and second. A flood is then counted (metric) instead of written, so
 * it cannot fill the disk or cost the edge its CPU. The next line that passes says how many of
 * its kind were left out before it.
 */
export class LogBudget {
  private readonly kinds = new Map<string, { windowStart: number; used: number; suppressed: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly onSuppressed: (kind: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** null: leave this line out. Otherwise write it, with `suppressed` lines of this kind left out since the last one. */
  take(kind: string): { suppressed: number } | null {
    const now = this.now();
    let state = this.kinds.get(kind);
    if (!state) {
      state = { windowStart: now, used: 0, suppressed: 0 };
      this.kinds.set(kind, state);
    }
    if (now - state.windowStart >= 1000) {
      state.windowStart = now;
      state.used = 0;
    }
    if (state.used >= this.perSecond) {
      state.suppressed++;
      this.onSuppressed(kind);
      return null;
    }
    state.used++;
    const suppressed = state.suppressed;
    state.suppressed = 0;
    return { suppressed };
  }
}
