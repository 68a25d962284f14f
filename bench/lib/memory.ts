/**
 * Memory per active call: RSS (and V8 heap, for the edge) of the system under test with no call,
 * then with N calls held open, divided by N. The calls dial numbers already in the route cache, so
 * the figure is the calls' own memory, not the cache's.
 */
import { join } from 'node:path';
import { rssBytes } from './procStats.js';
import { runLoadUac } from './sippLoad.js';

export interface MemoryResult {
  readonly held: number;
  readonly rssIdleBytes: number | null;
  readonly rssHeldBytes: number | null;
  readonly rssPerCallBytes: number | null;
  readonly heapIdleBytes: number | null;
  readonly heapHeldBytes: number | null;
  readonly heapPerCallBytes: number | null;
  readonly drachtioPerCallBytes: number | null;
  readonly failed: number;
}

const median = (xs: number[]): number | null => (xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

async function steadyRss(pid: number | null, samples = 5, everyMs = 400): Promise<number | null> {
  if (!pid) return null;
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const v = rssBytes(pid);
    if (v !== null) xs.push(v);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return median(xs);
}

export async function memoryPerCall(o: {
  target: string;
  sourceIp: string;
  dir: string;
  numbersFile: string;
  calls: number;
  rate: number;
  sutPid: number | null;
  drachtioPid: number | null;
  /** open calls as the SUT counts them (the edge's sip_edge_active_calls); else the agent's count */
  openCalls: () => Promise<number | null>;
  heapUsed?: () => Promise<number | null>;
}): Promise<MemoryResult> {
  const rampMs = (o.calls / o.rate) * 1000;
  const holdMs = rampMs + 20_000;
  const rssIdle = await steadyRss(o.sutPid);
  const heapIdle = o.heapUsed ? await o.heapUsed() : null;
  const drachtioIdle = await steadyRss(o.drachtioPid, 2);
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
  held = (await o.openCalls()) ?? held;
  const rssHeld = await steadyRss(o.sutPid);
  const heapHeld = o.heapUsed ? await o.heapUsed() : null;
  const drachtioHeld = await steadyRss(o.drachtioPid, 2);
  const result = await run;
  const per = (a: number | null, b: number | null): number | null => (a !== null && b !== null && held > 0 ? (b - a) / held : null);
  return {
    held,
    rssIdleBytes: rssIdle,
    rssHeldBytes: rssHeld,
    rssPerCallBytes: per(rssIdle, rssHeld),
    heapIdleBytes: heapIdle,
    heapHeldBytes: heapHeld,
    heapPerCallBytes: per(heapIdle, heapHeld),
    drachtioPerCallBytes: per(drachtioIdle, drachtioHeld),
    failed: result.stats ? result.stats.created - result.stats.successful : o.calls,
  };
}
