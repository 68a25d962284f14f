/**
 * Failed digest attempts, per source address and per trunk, so that a password cannot be guessed
 * at line rate. A source with `perSource` failures inside the window is dropped for the
 * cool-off (every request, every method, no answer). When one trunk sees `perTrunk` failures
 * inside the window (guesses spread over many addresses of a wide CIDR), every source that fails
 * on it from then on is dropped at its first failure. A source that answers the challenge
 * correctly is never held back by the trunk rule, so an attacker cannot lock the real carrier out.
 *
 * In memory per instance, bounded in the sources it remembers (least recently seen forgotten
 * first), like the flood guard.
 */
export interface AuthFailureLimits {
  /** failures of one source inside the window before it is dropped (0 = no limit at all) */
  readonly perSource: number;
  /** failures on one trunk inside the window before each failing source is dropped at once (0 = no trunk rule) */
  readonly perTrunk: number;
  readonly windowMs: number;
  readonly cooloffMs: number;
}

export type FailureVerdict =
  /** counted; the source may go on */
  | { readonly blocked: false }
  /** this failure put the source in the cool-off, by its own count or by its trunk's */
  | { readonly blocked: true; readonly scope: 'source' | 'trunk'; readonly until: number };

interface SourceState {
  /** times of recent failures, oldest first, at most perSource of them */
  failures: number[];
  blockedUntil: number;
}

export class AuthFailureGuard {
  private readonly sources = new Map<string, SourceState>();
  private readonly trunks = new Map<string, number[]>();

  private readonly maxSources: number;
  private readonly now: () => number;
  private readonly onBlock: (scope: 'source' | 'trunk') => void;

  constructor(
    private readonly limits: AuthFailureLimits,
    options: { maxSources?: number; now?: () => number; onBlock?: (scope: 'source' | 'trunk') => void } = {},
  ) {
    this.maxSources = options.maxSources ?? 10_000;
    this.now = options.now ?? Date.now;
    this.onBlock = options.onBlock ?? (() => undefined);
  }

  get enabled(): boolean {
    return this.limits.perSource > 0;
  }

  /** Until when (ms epoch) this source is in its cool-off, or null. */
  blockedUntil(source: string): number | null {
    if (!this.enabled) return null;
    const state = this.sources.get(source);
    if (!state || state.blockedUntil <= this.now()) return null;
    return state.blockedUntil;
  }

  /** One failed digest attempt from `source` on `trunkId`. */
  recordFailure(source: string, trunkId: string): FailureVerdict {
    if (!this.enabled) return { blocked: false };
    const now = this.now();
    const since = now - this.limits.windowMs;
    // the last perTrunk failures of the trunk (none kept when the trunk rule is off)
    let trunkFailures: number[] = [];
    if (this.limits.perTrunk > 0) {
      trunkFailures = this.recent(this.trunks.get(trunkId) ?? [], since);
      trunkFailures.push(now);
      if (trunkFailures.length > this.limits.perTrunk) trunkFailures.shift();
      this.trunks.set(trunkId, trunkFailures);
    }

    const state = this.touch(source);
    state.failures = this.recent(state.failures, since);
    state.failures.push(now);
    if (state.failures.length > this.limits.perSource) state.failures.shift();

    const scope = state.failures.length >= this.limits.perSource ? 'source' : this.limits.perTrunk > 0 && trunkFailures.length >= this.limits.perTrunk ? 'trunk' : null;
    if (!scope) return { blocked: false };
    state.blockedUntil = now + this.limits.cooloffMs;
    state.failures = [];
    this.onBlock(scope);
    return { blocked: true, scope, until: state.blockedUntil };
  }

  /** A correct answer: the source's own failures are forgiven (a cool-off already running stays). */
  recordSuccess(source: string): void {
    const state = this.sources.get(source);
    if (state) state.failures = [];
  }

  /** Sources in their cool-off now. */
  get blockedSources(): number {
    const now = this.now();
    let n = 0;
    for (const state of this.sources.values()) if (state.blockedUntil > now) n++;
    return n;
  }

  private recent(times: number[], since: number): number[] {
    let i = 0;
    while (i < times.length && times[i]! <= since) i++;
    return i === 0 ? times : times.slice(i);
  }

  private touch(source: string): SourceState {
    let state = this.sources.get(source);
    if (state) {
      this.sources.delete(source); // re-inserted: Map order is least recently seen first
    } else {
      if (this.sources.size >= this.maxSources) {
        const oldest = this.sources.keys().next().value;
        if (oldest !== undefined) this.sources.delete(oldest);
      }
      state = { failures: [], blockedUntil: 0 };
    }
    this.sources.set(source, state);
    return state;
  }
}
