/**
 * Pure helpers of the load and bench commands: percentiles, the per-call setup timings SIPp
 * logs (uac-load-answered.xml), and the pass rule of one step. No processes, no I/O.
 */

export interface Distribution {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

/** Nearest-rank percentile (p in 0..100) of values sorted ascending; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (p <= 0) return sorted[0]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : null,
    mean: sorted.length > 0 ? sum / sorted.length : null,
  };
}

/** Setup latencies (ms) of the answered calls of one SIPp run, and when their INVITEs went out. */
export interface SetupTimings {
  readonly to100: number[];
  readonly to180: number[];
  readonly to200: number[];
  /** gettimeofday of the first and last INVITE of an answered call, in ms since the epoch */
  readonly firstInviteMs: number | null;
  readonly lastInviteMs: number | null;
}

/**
 * Parses the `setup;<call>;<s0>;<us0>;<s100>;<us100>;<s180>;<us180>;<s200>;<us200>` lines that
 * uac-load-answered.xml logs per answered call (SIPp prints its doubles as "123.000000"). A response
 * that never came has 0;0 and is left out of its distribution.
 */
export function parseSetupLog(text: string): SetupTimings {
  const to100: number[] = [];
  const to180: number[] = [];
  const to200: number[] = [];
  let first: number | null = null;
  let last: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('setup;')) continue;
    const f = line.trim().split(';').slice(2).map(Number);
    if (f.length < 8 || f.some((v) => !Number.isFinite(v))) continue;
    const at = (i: number): number | null => (f[i]! > 0 ? f[i]! * 1000 + f[i + 1]! / 1000 : null);
    const sent = at(0);
    if (sent === null) continue;
    first = first === null ? sent : Math.min(first, sent);
    last = last === null ? sent : Math.max(last, sent);
    for (const [i, list] of [[2, to100], [4, to180], [6, to200]] as const) {
      const t = at(i);
      if (t !== null && t >= sent) list.push(t - sent);
    }
  }
  return { to100, to180, to200, firstInviteMs: first, lastInviteMs: last };
}

export interface StepCounts {
  /** calls per second asked of SIPp (-r) */
  readonly offeredCps: number;
  /** calls SIPp was to place (-m) */
  readonly planned: number;
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  /** seconds between the first and the last INVITE SIPp sent */
  readonly sendSpanS: number;
}

export interface StepVerdict {
  /** created - successful, over created (calls cut off by the step's hard timeout count as failed) */
  readonly failureRatio: number;
  /** created / send span: the rate SIPp actually offered */
  readonly generatedCps: number;
  /** successful / send span: answered calls per second */
  readonly reachedCps: number;
  readonly pass: boolean;
  readonly why: string;
}

export interface PassRule {
  /** largest failure ratio that still passes (0.001 = 0.1 %) */
  readonly maxFailureRatio: number;
  /** reached / offered must be at least this */
  readonly minReachedRatio: number;
}

export const DEFAULT_PASS_RULE: PassRule = { maxFailureRatio: 0.001, minReachedRatio: 0.95 };

/** A step passes when under maxFailureRatio of its calls failed and the offered rate was really reached. */
export function judgeStep(c: StepCounts, rule: PassRule = DEFAULT_PASS_RULE): StepVerdict {
  const created = Math.max(c.created, 0);
  const failureRatio = created > 0 ? Math.max(0, created - c.successful) / created : 1;
  // One INVITE every 1/rate s: n calls span (n - 1)/rate. Below one second of calls, use the plan.
  const span = Math.max(c.sendSpanS, (Math.max(created, 1) - 1) / c.offeredCps, 1e-9);
  const generatedCps = created > 1 ? (created - 1) / span : 0;
  const reachedCps = created > 1 ? Math.max(0, c.successful - 1) / span : 0;
  const reasons: string[] = [];
  if (failureRatio >= rule.maxFailureRatio) reasons.push(`${(failureRatio * 100).toFixed(2)} % failed`);
  if (reachedCps < c.offeredCps * rule.minReachedRatio) reasons.push(`reached ${reachedCps.toFixed(0)} of ${c.offeredCps} cps`);
  return { failureRatio, generatedCps, reachedCps, pass: reasons.length === 0, why: reasons.length === 0 ? 'ok' : reasons.join(', ') };
}

/**
 * The next rate of a search for the highest passing rate: up by `step` while steps pass, then
 * halving the gap between the best pass and the lowest failure until it is at most `resolution`.
 * Returns null when the search is over.
 */
export function nextRate(results: readonly { rate: number; pass: boolean }[], opts: { start: number; step: number; max: number; resolution: number }): number | null {
  if (results.length === 0) return opts.start;
  const passes = results.filter((r) => r.pass).map((r) => r.rate);
  const fails = results.filter((r) => !r.pass).map((r) => r.rate);
  const best = passes.length > 0 ? Math.max(...passes) : null;
  const lowestFail = fails.length > 0 ? Math.min(...fails) : null;
  if (lowestFail === null) {
    const next = (best ?? opts.start) + opts.step;
    return best !== null && best >= opts.max ? null : Math.min(next, opts.max);
  }
  const low = best ?? 0;
  if (lowestFail - low <= opts.resolution) return null;
  const mid = Math.round((low + lowestFail) / 2 / opts.resolution) * opts.resolution;
  if (mid <= low || mid >= lowestFail) return null;
  return results.some((r) => r.rate === mid) ? null : mid;
}
