/**
 * What `npm run bench` writes into its results directory: steps.csv, results.json and a
 * self-contained report.html (charts of every side's steps, tables of every figure).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU_PROCESSES, decisiveSteps, type AnchoredComparison } from './anchorSummary.js';
import { toCsv } from './csv.js';
import type { LookupResult } from './lookupBench.js';
import { describeMachine, type MachineInfo } from './machine.js';
import type { MemoryResult } from './memory.js';
import type { PipelineCostResult } from './pipelineBench.js';
import type { ProfileSummary } from './profile.js';
import { renderHtml, stepCharts, type Table } from './report.js';
import { STEP_COLUMNS, stepRow, type StepResult } from './step.js';

export interface BenchSideResult {
  /** bare | edge | anchored: also the name of the system under test in each step's usage */
  readonly side: string;
  readonly round: number;
  readonly steps: StepResult[];
  readonly maxRate: number | null;
  readonly memory: MemoryResult | null;
  readonly profile: ProfileSummary | null;
}

const SERIES: Record<string, { name: string; color: string }> = {
  bare: { name: 'bare B2BUA', color: '#2471a3' },
  edge: { name: 'sip-edge', color: '#c0392b' },
  anchored: { name: 'sip-edge anchored', color: '#1e8449' },
};

const kb = (b: number | null): string => (b === null ? '-' : `${(b / 1024).toFixed(1)} KiB`);
const mib = (b: number | null | undefined): string => (b === null || b === undefined ? '-' : (b / 1048576).toFixed(0));

export function formatMemory(m: MemoryResult): string {
  return `held ${m.held} calls: RSS ${kb(m.rssPerCallBytes)}/call (${mib(m.idle?.rss)} -> ${mib(m.loaded?.rss)} MB after GC), ` +
    `V8 heap+external ${kb(m.heapPerCallBytes)}/call (${mib(m.idle && m.idle.heapUsed + m.idle.external)} -> ${mib(m.loaded && m.loaded.heapUsed + m.loaded.external)} MB), ` +
    `drachtio-server RSS ${kb(m.drachtioPerCallBytes)}/call, ${m.failed} failed`;
}

export function formatLookup(l: LookupResult): string {
  const d = (x: LookupResult['miss']): string => `p50 ${x.p50?.toFixed(0)} us, p99 ${x.p99?.toFixed(0)} us, max ${x.max?.toFixed(0)} us`;
  return `cache miss (Redis GET): ${d(l.miss)} (${l.missesPerSecond.toFixed(0)}/s one at a time)\n  cache hit: ${d(l.hit)} (${l.hitsPerSecond.toFixed(0)}/s)${l.notFound > 0 ? `\n  NOT FOUND: ${l.notFound}` : ''}`;
}

/** Writes the three files; returns their paths. */
export function writeBenchReport(r: {
  out: string;
  machine: MachineInfo;
  summary: readonly string[];
  json: Record<string, unknown>;
  numbers: number;
  rounds: number;
  sides: readonly BenchSideResult[];
  anchored: AnchoredComparison | null;
  lookup: LookupResult | null;
  pipeline: PipelineCostResult | null;
}): string[] {
  const rows: Record<string, string | number | null | boolean>[] = r.sides.flatMap((side) => side.steps.map((s) => ({ ...stepRow(s, side.side), label: r.rounds > 1 ? `r${side.round}:${s.label}` : s.label })));
  const files = ['steps.csv', 'results.json', 'report.html'].map((f) => join(r.out, f));
  writeFileSync(files[0]!, toCsv(rows, STEP_COLUMNS as unknown as string[]));
  writeFileSync(files[1]!, `${JSON.stringify(r.json, null, 2)}\n`);
  const tables: Table[] = [
    { title: 'Steps', columns: STEP_COLUMNS as unknown as string[], rows: rows.map((row) => STEP_COLUMNS.map((c) => row[c])) },
  ];
  const a = r.anchored;
  if (a?.edgeCpu && a.anchoredCpu) {
    tables.push({
      title: `CPU ms per call at ${a.cpuRate} calls/s (the highest rate both edge sides passed), unanchored vs anchored`,
      columns: ['process', 'unanchored edge', 'anchored edge'],
      rows: [...CPU_PROCESSES.map((p) => [p, a.edgeCpu!.ms[p], a.anchoredCpu!.ms[p]]), ['total', a.edgeCpu.total, a.anchoredCpu.total]],
    });
  }
  const { lookup, pipeline } = r;
  if (lookup) {
    tables.push({
      title: `Route lookup (RedisRouteStore.number), ${lookup.samples} random numbers of ${r.numbers}, microseconds`,
      columns: ['path', 'p50', 'p95', 'p99', 'max', 'mean', 'per second'],
      rows: [
        ['cache miss (Redis GET)', lookup.miss.p50, lookup.miss.p95, lookup.miss.p99, lookup.miss.max, lookup.miss.mean, lookup.missesPerSecond],
        ['cache hit', lookup.hit.p50, lookup.hit.p95, lookup.hit.p99, lookup.hit.max, lookup.hit.mean, lookup.hitsPerSecond],
      ],
    });
  }
  if (pipeline) {
    tables.push({
      title: `CPU of the edge's own work per call, by stage (in-process, no SIP, ${pipeline.concurrency} calls in flight), microseconds`,
      columns: ['stage', 'edge CPU us per call', 'redis-server CPU us per call', 'calls'],
      rows: pipeline.stages.map((s) => [s.stage, s.cpuUs, s.redisUs, s.calls]),
    });
  }
  const memRows = r.sides.filter((s) => s.memory).map((s) => {
    const m = s.memory!;
    const kib = (b: number | null): number | null => (b === null ? null : b / 1024);
    return [s.side, m.held, m.idle && m.idle.rss / 1048576, m.loaded && m.loaded.rss / 1048576, kib(m.rssPerCallBytes), kib(m.heapPerCallBytes), kib(m.drachtioPerCallBytes)];
  });
  if (memRows.length > 0) tables.push({ title: 'Memory per active call (after a full GC)', columns: ['process', 'calls held', 'RSS idle MB', 'RSS held MB', 'RSS KiB/call', 'V8 heap+external KiB/call', 'drachtio RSS KiB/call'], rows: memRows });
  for (const s of r.sides) {
    if (s.profile) tables.push({ title: `CPU profile of ${s.side}: self time by the package or src/ file it ran for (% of busy)`, columns: ['owner', 'ms', '%'], rows: s.profile.byOwner.map((e) => [e.name, e.ms, e.pct]) });
  }
  const sideNames = [...new Set(r.sides.map((s) => s.side))];
  writeFileSync(
    files[2]!,
    renderHtml({
      title: `sip-edge benchmark: ${sideNames.map((n) => SERIES[n]?.name ?? n).join(' vs ')}`,
      subtitle: describeMachine(r.machine),
      summary: r.summary,
      charts: stepCharts(
        r.sides.map((s) => ({
          name: `${SERIES[s.side]?.name ?? s.side}${r.rounds > 1 ? ` r${s.round}` : ''}`,
          color: SERIES[s.side]?.color ?? '#7f8c8d',
          steps: decisiveSteps(s.steps).map((x) => ({ offered_cps: x.rate, reached_cps: x.reachedCps, failure_pct: x.failureRatio * 100, p50: x.to200.p50, p99: x.to200.p99 })),
        })),
      ),
      tables,
    }),
  );
  return files;
}
