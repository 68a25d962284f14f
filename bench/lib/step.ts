import { join } from 'node:path';
import { sampleUsage, type UsageReport } from './procStats.js';
import { runLoadUac } from './sippLoad.js';
import { distribution, judgeStep, type Distribution, type PassRule } from './stats.js';

export interface StepPlan {
  readonly label: string;
  /** host:port of the system under test */
  readonly target: string;
  readonly sourceIp: string;
  readonly rate: number;
  readonly calls: number;
  readonly holdMs: number;
  readonly numbersFile: string;
  readonly dir: string;
  /** processes whose CPU and RSS the step reports (null = not known, e.g. --target) */
  readonly pids: Readonly<Record<string, number | null | undefined>>;
  /** hard bound of the step; by default the send time + hold + 20 s */
  readonly timeoutMs?: number;
  readonly rule?: PassRule;
}

export interface StepResult {
  readonly label: string;
  readonly rate: number;
  readonly planned: number;
  readonly holdMs: number;
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly timeoutsOnRecv: number;
  readonly unexpectedMessages: number;
  readonly failureRatio: number;
  readonly generatedCps: number;
  readonly reachedCps: number;
  readonly pass: boolean;
  readonly why: string;
  readonly to100: Distribution;
  readonly to180: Distribution;
  readonly to200: Distribution;
  readonly usage: UsageReport;
  readonly timedOut: boolean;
  readonly exitCode: number | null;
  readonly errorsHead: string;
}

/** One rate step: a SIPp carrier run against the target while /proc is sampled; never throws on failed calls. */
export async function runStep(plan: StepPlan): Promise<StepResult> {
  const sendMs = (plan.calls / plan.rate) * 1000;
  const timeoutMs = plan.timeoutMs ?? Math.ceil(sendMs + plan.holdMs + 20_000);
  let sampler: ReturnType<typeof sampleUsage> | null = null;
  const result = await runLoadUac({
    target: plan.target,
    sourceIp: plan.sourceIp,
    dir: join(plan.dir, 'sipp-uac'),
    numbersFile: plan.numbersFile,
    rate: plan.rate,
    calls: plan.calls,
    // room for every call of hold + a slow setup; beyond it SIPp holds back (and the step fails on reached cps)
    limit: Math.max(50, Math.ceil(plan.rate * (plan.holdMs / 1000 + 4))),
    holdMs: plan.holdMs,
    timeoutMs,
    caller: '+14152371234',
    onStart: (pid) => {
      sampler = sampleUsage({ ...plan.pids, sipp_uac: pid });
    },
  });
  const usage = (sampler as ReturnType<typeof sampleUsage> | null)?.stop() ?? { processes: {}, machineBusyPct: null, otherCpuPct: null, otherCpuPeakPct: null, seconds: 0 };
  const s = result.stats;
  const t = result.timings;
  const sendSpanS = t.firstInviteMs !== null && t.lastInviteMs !== null ? (t.lastInviteMs - t.firstInviteMs) / 1000 : 0;
  const counts = {
    offeredCps: plan.rate,
    planned: plan.calls,
    created: s?.created ?? 0,
    successful: s?.successful ?? 0,
    failed: s?.failed ?? 0,
    sendSpanS,
  };
  const verdict = judgeStep(counts, plan.rule);
  return {
    label: plan.label,
    rate: plan.rate,
    planned: plan.calls,
    holdMs: plan.holdMs,
    created: counts.created,
    successful: counts.successful,
    failed: counts.failed,
    retransmissions: s?.retransmissions ?? 0,
    timeoutsOnRecv: s?.timeoutsOnRecv ?? 0,
    unexpectedMessages: s?.unexpectedMessages ?? 0,
    failureRatio: verdict.failureRatio,
    generatedCps: verdict.generatedCps,
    reachedCps: verdict.reachedCps,
    pass: verdict.pass && !result.timedOut,
    why: result.timedOut ? `${verdict.why === 'ok' ? '' : `${verdict.why}, `}step hit its ${Math.round(timeoutMs / 1000)} s bound` : verdict.why,
    to100: distribution(t.to100),
    to180: distribution(t.to180),
    to200: distribution(t.to200),
    usage,
    timedOut: result.timedOut,
    exitCode: result.exitCode,
    errorsHead: result.errorsHead,
  };
}

const mb = (b: number | null | undefined): string => (b === null || b === undefined ? '-' : (b / 1024 / 1024).toFixed(0));
const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(0));

/** CPU milliseconds the process spent per call of the step: the figure to compare two systems by. */
export function cpuMsPerCall(cpuPct: number | null | undefined, reachedCps: number): number | null {
  if (cpuPct === null || cpuPct === undefined || reachedCps <= 0) return null;
  return (cpuPct / 100) * (1000 / reachedCps);
}

/** One line per step for the terminal. */
export function formatStepLine(r: StepResult, sutName: string): string {
  const p = r.usage.processes;
  const lat = (d: Distribution): string => `${ms(d.p50)}/${ms(d.p95)}/${ms(d.p99)}`;
  return [
    `${r.label.padEnd(12)} ${String(r.rate).padStart(4)} cps`,
    `reached ${r.reachedCps.toFixed(0).padStart(4)}`,
    `calls ${r.successful}/${r.created}`,
    `failed ${(r.failureRatio * 100).toFixed(2)}%`,
    `retrans ${r.retransmissions}`,
    `100 ${lat(r.to100)}  180 ${lat(r.to180)}  200 ${lat(r.to200)} ms`,
    `${sutName} cpu ${pct(p[sutName]?.cpuPct)}% (${ms(cpuMsPerCall(p[sutName]?.cpuPct, r.reachedCps))} ms/call) rss ${mb(p[sutName]?.rssEndBytes)}MB`,
    `drachtio ${pct(p.drachtio?.cpuPct)}%`,
    ...(p.rtpengine ? [`rtpengine ${pct(p.rtpengine.cpuPct)}%`] : []),
    `machine ${pct(r.usage.machineBusyPct)}% (others ${pct(r.usage.otherCpuPct)}%, peak ${pct(r.usage.otherCpuPeakPct)}%)`,
    r.pass ? 'PASS' : `FAIL (${r.why})`,
  ].join(' | ');
}

/** Flat record of a step for CSV. */
export function stepRow(r: StepResult, sutName: string): Record<string, string | number | null | boolean> {
  const p = r.usage.processes;
  const row: Record<string, string | number | null | boolean> = {
    label: r.label,
    offered_cps: r.rate,
    generated_cps: r.generatedCps,
    reached_cps: r.reachedCps,
    planned: r.planned,
    created: r.created,
    successful: r.successful,
    failed: r.created - r.successful,
    failure_pct: r.failureRatio * 100,
    retransmissions: r.retransmissions,
    timeouts_on_recv: r.timeoutsOnRecv,
    hold_ms: r.holdMs,
    pass: r.pass,
    why: r.why,
  };
  for (const [name, d] of [['100', r.to100], ['180', r.to180], ['200', r.to200]] as const) {
    row[`invite_${name}_p50_ms`] = d.p50;
    row[`invite_${name}_p95_ms`] = d.p95;
    row[`invite_${name}_p99_ms`] = d.p99;
  }
  row.sut = sutName;
  row.sut_cpu_pct = p[sutName]?.cpuPct ?? null;
  row.sut_cpu_ms_per_call = cpuMsPerCall(p[sutName]?.cpuPct, r.reachedCps);
  row.sut_rss_mb = p[sutName]?.rssEndBytes ? p[sutName]!.rssEndBytes! / 1048576 : null;
  row.sut_rss_peak_mb = p[sutName]?.rssPeakBytes ? p[sutName]!.rssPeakBytes! / 1048576 : null;
  row.drachtio_cpu_pct = p.drachtio?.cpuPct ?? null;
  row.redis_cpu_pct = p.redis?.cpuPct ?? null;
  row.rtpengine_cpu_pct = p.rtpengine?.cpuPct ?? null;
  row.sipp_uac_cpu_pct = p.sipp_uac?.cpuPct ?? null;
  row.sipp_uas_cpu_pct = p.sipp_uas?.cpuPct ?? null;
  row.machine_busy_pct = r.usage.machineBusyPct;
  row.other_cpu_pct = r.usage.otherCpuPct;
  row.other_cpu_peak_pct = r.usage.otherCpuPeakPct;
  return row;
}

export const STEP_COLUMNS = [
  'label', 'sut', 'offered_cps', 'generated_cps', 'reached_cps', 'planned', 'created', 'successful', 'failed', 'failure_pct',
  'retransmissions', 'timeouts_on_recv', 'hold_ms',
  'invite_100_p50_ms', 'invite_100_p95_ms', 'invite_100_p99_ms',
  'invite_180_p50_ms', 'invite_180_p95_ms', 'invite_180_p99_ms',
  'invite_200_p50_ms', 'invite_200_p95_ms', 'invite_200_p99_ms',
  'sut_cpu_pct', 'sut_cpu_ms_per_call', 'sut_rss_mb', 'sut_rss_peak_mb', 'drachtio_cpu_pct', 'redis_cpu_pct', 'rtpengine_cpu_pct', 'sipp_uac_cpu_pct', 'sipp_uas_cpu_pct', 'machine_busy_pct', 'other_cpu_pct', 'other_cpu_peak_pct',
  'pass', 'why',
] as const;
