/** Side-by-side comparison of two load runs made at the same time (bench/compare.ts). */
import { cpuMsPerCall, type StepResult } from './step.js';

export interface SideSteps {
  readonly name: string;
  /** which process of the run is the system under test: 'edge' or 'bare' */
  readonly sut: string;
  readonly steps: readonly Pick<StepResult, 'label' | 'reachedCps' | 'created' | 'failed' | 'usage'>[];
}

export type ComparisonRow = {
  readonly step: string;
  readonly a_ms_per_call: number | null;
  readonly b_ms_per_call: number | null;
  /** b / a: above 1, this checkout (a) spends less CPU per call */
  readonly b_over_a: number | null;
  readonly a_redis_ms_per_call: number | null;
  readonly b_redis_ms_per_call: number | null;
  readonly a_failed: number;
  readonly b_failed: number;
};

export const COMPARISON_COLUMNS = ['step', 'a_ms_per_call', 'b_ms_per_call', 'b_over_a', 'a_redis_ms_per_call', 'b_redis_ms_per_call', 'a_failed', 'b_failed'] as const;

/** Step by step (as many as both sides ran): CPU ms per call of each system under test and of its Redis. */
export function compareSides(a: SideSteps, b: SideSteps): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (let i = 0; i < Math.min(a.steps.length, b.steps.length); i++) {
    const sa = a.steps[i]!;
    const sb = b.steps[i]!;
    const ms = (s: typeof sa, process: string): number | null => cpuMsPerCall(s.usage.processes[process]?.cpuPct, s.reachedCps);
    const am = ms(sa, a.sut);
    const bm = ms(sb, b.sut);
    rows.push({
      step: sa.label,
      a_ms_per_call: am,
      b_ms_per_call: bm,
      b_over_a: am !== null && bm !== null && am > 0 ? bm / am : null,
      a_redis_ms_per_call: ms(sa, 'redis'),
      b_redis_ms_per_call: ms(sb, 'redis'),
      a_failed: sa.failed,
      b_failed: sb.failed,
    });
  }
  return rows;
}

export function formatComparison(a: SideSteps, b: SideSteps, rows: readonly ComparisonRow[]): string {
  const f = (v: number | null, digits = 3): string => (v === null ? '-' : v.toFixed(digits));
  const lines = [`a = ${a.name} (${a.sut}), b = ${b.name} (${b.sut}); CPU ms per call of the ${a.sut === b.sut ? a.sut : 'system under test'} (+ its redis-server)`];
  for (const r of rows) {
    lines.push(`  ${r.step.padEnd(6)} a ${f(r.a_ms_per_call)} (+ ${f(r.a_redis_ms_per_call)})  b ${f(r.b_ms_per_call)} (+ ${f(r.b_redis_ms_per_call)})  b/a ${f(r.b_over_a)}  failed a ${r.a_failed} b ${r.b_failed}`);
  }
  return lines.join('\n');
}
