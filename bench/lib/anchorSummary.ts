/**
 * The anchored edge beside the unanchored one (npm run bench -- --anchored): which steps decide a
 * rate, the highest rate both passed, CPU ms per call of each process there, and the summary
 * lines. Pure: no processes, no I/O.
 */
import { cpuMsPerCall, type StepResult } from './step.js';

/** The processes whose CPU per call the comparison shows; the system under test's is 'edge'. */
export const CPU_PROCESSES = ['edge', 'drachtio', 'redis', 'rtpengine'] as const;
export type CpuProcess = (typeof CPU_PROCESSES)[number];

export type StepFigures = Pick<StepResult, 'label' | 'rate' | 'pass' | 'reachedCps' | 'usage'>;

export interface CpuPerCall {
  /** offered rate of the step the figures come from */
  readonly rate: number;
  readonly reachedCps: number;
  /** CPU ms per answered call; null when the process was not part of the side or not measured */
  readonly ms: Readonly<Record<CpuProcess, number | null>>;
  /** sum of the measured processes */
  readonly total: number | null;
}

/** The attempt that decided each rate: a retried step's last try (steps in the order they ran). */
export function decisiveSteps<T extends { readonly rate: number }>(steps: readonly T[]): T[] {
  return steps.filter((s, i) => !steps.slice(i + 1).some((later) => later.rate === s.rate));
}

/** The highest offered rate that passed on both sides (any attempt), or null. */
export function commonPassRate(a: readonly StepFigures[], b: readonly StepFigures[]): number | null {
  const passedB = new Set(b.filter((s) => s.pass).map((s) => s.rate));
  const both = a.filter((s) => s.pass && passedB.has(s.rate)).map((s) => s.rate);
  return both.length > 0 ? Math.max(...both) : null;
}

/** CPU ms per call of each process in one step; `sutKey` names the system under test in the step's usage. */
export function cpuPerCall(step: StepFigures, sutKey: string): CpuPerCall {
  const p = step.usage.processes;
  const of = (name: CpuProcess): number | null => cpuMsPerCall(p[name === 'edge' ? sutKey : name]?.cpuPct, step.reachedCps);
  const ms = Object.fromEntries(CPU_PROCESSES.map((name) => [name, of(name)])) as Record<CpuProcess, number | null>;
  const measured = Object.values(ms).filter((v): v is number => v !== null);
  return { rate: step.rate, reachedCps: step.reachedCps, ms, total: measured.length > 0 ? measured.reduce((s, v) => s + v, 0) : null };
}

/** The passing step at `rate` (the last one when several rounds passed it), or null. */
export function passingStepAt<T extends StepFigures>(steps: readonly T[], rate: number): T | null {
  return [...steps].reverse().find((s) => s.pass && s.rate === rate) ?? null;
}

export interface AnchoredComparison {
  readonly edgeMaxRate: number | null;
  readonly anchoredMaxRate: number | null;
  /** anchored / unanchored highest rate */
  readonly ratio: number | null;
  /** the rate both passed at which the CPU figures are compared */
  readonly cpuRate: number | null;
  readonly edgeCpu: CpuPerCall | null;
  readonly anchoredCpu: CpuPerCall | null;
}

/** Both edge sides of a run (every round's steps, in order) reduced to the figures the summary prints. */
export function compareAnchored(
  edge: { maxRate: number | null; steps: readonly StepFigures[] },
  anchored: { maxRate: number | null; steps: readonly StepFigures[] },
): AnchoredComparison {
  const cpuRate = commonPassRate(edge.steps, anchored.steps);
  const at = (steps: readonly StepFigures[], key: string): CpuPerCall | null => {
    const step = cpuRate === null ? null : passingStepAt(steps, cpuRate);
    return step ? cpuPerCall(step, key) : null;
  };
  return {
    edgeMaxRate: edge.maxRate,
    anchoredMaxRate: anchored.maxRate,
    ratio: edge.maxRate && anchored.maxRate !== null ? anchored.maxRate / edge.maxRate : null,
    cpuRate,
    edgeCpu: at(edge.steps, 'edge'),
    anchoredCpu: at(anchored.steps, 'anchored'),
  };
}

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(2));

/** Summary lines: the ratio, then CPU ms per call per process at the highest rate both passed. */
export function formatAnchored(c: AnchoredComparison): string[] {
  const lines = [`ratio c/b (anchored / unanchored edge): ${c.ratio === null ? '-' : c.ratio.toFixed(3)}`];
  if (c.cpuRate === null || !c.edgeCpu || !c.anchoredCpu) {
    lines.push('CPU per call: no rate passed on both edge sides');
    return lines;
  }
  const per = CPU_PROCESSES.map((name) => `${name} ${ms(c.edgeCpu!.ms[name])} / ${ms(c.anchoredCpu!.ms[name])}`);
  lines.push(`CPU ms per call at ${c.cpuRate} calls/s (highest rate both passed), unanchored / anchored: ${per.join('; ')}; total ${ms(c.edgeCpu.total)} / ${ms(c.anchoredCpu.total)}`);
  return lines;
}
