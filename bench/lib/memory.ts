/**
 * Memory per active call: the process under test after a full GC with no call, then after a full
 * GC with N calls held open; (held - idle) / N for RSS and for the V8 heap (+ external memory).
 * The calls dial numbers already in the route cache, so the figure is the calls' own memory.
 */
import { join } from 'node:path';
import { rssBytes } from './procStats.js';
import { runLoadUac } from './sippLoad.js';
import type { MemoryUsage } from './sut.js';

export interface MemoryResult {
  readonly held: number;
  readonly idle: MemoryUsage | null;
  readonly loaded: MemoryUsage | null;
  readonly rssPerCallBytes: number | null;
  /** V8 heap used + external (Buffers), per call */
  readonly heapPerCallBytes: number | null;
  readonly drachtioPerCallBytes: number | null;
  readonly failed: number;
}

const median = (xs: number[]): number | null => (xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

async function steadyRss(pid: number | null, samples = 3, everyMs = 300): Promise<number | null> {
  if (!pid) return null;
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const v = rssBytes(pid);
    if (v !== null) xs.push(v);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return median(xs);
}

/** Two GCs a moment apart: what survives both is live. */
async function settledMemory(probe: () => Promise<MemoryUsage | null>): Promise<MemoryUsage | null> {
  await probe();
  await new Promise((r) => setTimeout(r, 500));
  return probe();
}

export async function memoryPerCall(o: {
  target: string;
  sourceIp: string;
  dir: string;
  numbersFile: string;
  calls: number;
  rate: number;
  probe: () => Promise<MemoryUsage | null>;
  drachtioPid: number | null;
  /** open calls as the SUT counts them (the edge's sip_edge_active_calls), else the agent's count */
  openCalls: () => Promise<number | null>;
}): Promise<MemoryResult> {
  const rampMs = (o.calls / o.rate) * 1000;
  const holdMs = rampMs + 25_000;
  const idle = await settledMemory(o.probe);
  const drachtioIdle = await steadyRss(o.drachtioPid);
  const run = runLoadUac({
    target: o.target,
    sourceIp: o.sourceIp,
    dir: join(o.dir, 'sipp-uac'),
    numbersFile: o.numbersFile,
    rate: o.rate,
    calls: o.calls,
    limit: o.calls + 10,
    holdMs,
    timeoutMs: rampMs + holdMs + 30_000,
    caller: '+14152371234',
  });
  const deadline = Date.now() + rampMs + 15_000;
  let held = 0;
  while (Date.now() < deadline) {
    held = (await o.openCalls()) ?? 0;
    if (held >= o.calls) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1_500));
  const loaded = await settledMemory(o.probe);
  held = (await o.openCalls()) ?? held;
  const drachtioHeld = await steadyRss(o.drachtioPid);
  const result = await run;
  const per = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a !== null && a !== undefined && b !== null && b !== undefined && held > 0 ? (b - a) / held : null;
  return {
    held,
    idle,
    loaded,
    rssPerCallBytes: per(idle?.rss, loaded?.rss),
    heapPerCallBytes: per(idle ? idle.heapUsed + idle.external : null, loaded ? loaded.heapUsed + loaded.external : null),
    drachtioPerCallBytes: per(drachtioIdle, drachtioHeld),
    failed: result.stats ? result.stats.created - result.stats.successful : o.calls,
  };
}
