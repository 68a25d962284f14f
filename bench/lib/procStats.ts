import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** user + system CPU seconds a process has used so far, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size in bytes (VmRSS), or null when the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}

export interface ProcessUsage {
  /** average CPU over the sampled window, % of one core (200 % = both cores of a 2-core machine) */
  readonly cpuPct: number | null;
  readonly rssStartBytes: number | null;
  readonly rssPeakBytes: number | null;
  readonly rssEndBytes: number | null;
}

export interface UsageReport {
  readonly processes: Readonly<Record<string, ProcessUsage>>;
  /** whole-machine busy %, of all cores (100 % = every core busy) */
  readonly machineBusyPct: number | null;
  /**
   * CPU used by everything else on the machine (other users' builds and tests, the kernel, this
   * runner), % of one core: a step with much of it was disturbed.
   */
  readonly otherCpuPct: number | null;
  /** the highest otherCpuPct of one sampling interval: a short burst of other work shows here */
  readonly otherCpuPeakPct: number | null;
  readonly seconds: number;
}

/**
 * Samples CPU time and RSS of named processes (and the machine) from /proc every `intervalMs`
 * until stop(). Processes that are not there (pid undefined, or gone) report null.
 */
export function sampleUsage(pids: Readonly<Record<string, number | null | undefined>>, intervalMs = 500): { stop(): UsageReport } {
  const started = process.hrtime.bigint();
  const machine0 = machineTicks();
  const state = Object.entries(pids).map(([name, pid]) => {
    const rss = pid ? rssBytes(pid) : null;
    return { name, pid: pid ?? null, cpu0: pid ? cpuSeconds(pid) : null, cpuLast: null as number | null, rssStart: rss, rssPeak: rss, rssEnd: rss };
  });
  const cores = availableParallelism();
  let lastMachine = machine0;
  let lastAt = process.hrtime.bigint();
  let otherPeak: number | null = null;
  const sample = (): void => {
    const now = process.hrtime.bigint();
    const machine = machineTicks();
    let oursDelta = 0;
    for (const s of state) {
      if (!s.pid) continue;
      const rss = rssBytes(s.pid);
      const cpu = cpuSeconds(s.pid);
      if (cpu !== null && s.cpuLast !== null) oursDelta += cpu - s.cpuLast;
      else if (cpu !== null && s.cpu0 !== null) oursDelta += cpu - s.cpu0;
      if (cpu !== null) s.cpuLast = cpu;
      if (rss !== null) {
        s.rssEnd = rss;
        s.rssPeak = Math.max(s.rssPeak ?? 0, rss);
      }
    }
    const seconds = Number(now - lastAt) / 1e9;
    const dTotal = machine.total - lastMachine.total;
    if (seconds > 0.2 && dTotal > 0) {
      const machinePct = ((machine.busy - lastMachine.busy) / dTotal) * 100 * cores;
      const other = Math.max(0, machinePct - (oursDelta / seconds) * 100);
      otherPeak = Math.max(otherPeak ?? 0, other);
    }
    lastMachine = machine;
    lastAt = now;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop(): UsageReport {
      clearInterval(timer);
      sample();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const machine1 = machineTicks();
      const dTotal = machine1.total - machine0.total;
      const processes: Record<string, ProcessUsage> = {};
      for (const s of state) {
        processes[s.name] = {
          cpuPct: s.cpu0 !== null && s.cpuLast !== null && seconds > 0 ? ((s.cpuLast - s.cpu0) / seconds) * 100 : null,
          rssStartBytes: s.rssStart,
          rssPeakBytes: s.rssPeak,
          rssEndBytes: s.rssEnd,
        };
      }
      const machineBusyPct = dTotal > 0 ? ((machine1.busy - machine0.busy) / dTotal) * 100 : null;
      const ours = Object.values(processes).reduce((sum, p) => sum + (p.cpuPct ?? 0), 0);
      const otherCpuPct = machineBusyPct === null ? null : Math.max(0, machineBusyPct * cores - ours);
      return { processes, machineBusyPct, otherCpuPct, otherCpuPeakPct: otherPeak, seconds };
    },
  };
}

/** Machine busy % (of all cores) over `ms`. */
export async function machineBusyOver(ms: number): Promise<number> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : 0;
}

/**
 * Waits (up to maxWaitMs) until the machine is quiet: under maxBusyPct % busy (of all cores) over
 * 2 s while nothing of ours runs. Returns the last busy % measured.
 */
export async function waitForQuiet(maxBusyPct: number, maxWaitMs: number, onWait?: (busy: number) => void): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const busy = await machineBusyOver(2_000);
    if (busy <= maxBusyPct || Date.now() >= deadline) return busy;
    onWait?.(busy);
    await new Promise((r) => setTimeout(r, 3_000));
  }
}
