import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly ramGiB: number;
  readonly node: string;
  readonly sipp: string;
  readonly redis: string;
  readonly drachtio: string;
  readonly kernel: string;
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000 }).trim();
  } catch (err) {
    return ((err as { stdout?: string }).stdout ?? '').trim();
  }
}

/** nproc, CPU model, RAM and tool versions: the "machine" line of every report. */
export function machineInfo(): MachineInfo {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  return {
    cpus: availableParallelism(),
    model,
    ramGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    sipp: /SIPp v[\d.]+/.exec(tryRun('sipp', ['-v']))?.[0] ?? 'unknown',
    redis: /v=([\d.]+)/.exec(tryRun('redis-server', ['--version']))?.[1] ?? 'unknown',
    drachtio: tryRun(process.env.DRACHTIO_BIN ?? 'drachtio', ['--version']).split('\n')[0] ?? 'unknown',
    kernel: tryRun('uname', ['-r']),
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpus} CPUs (${m.model}), ${m.ramGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, drachtio ${m.drachtio}, ${m.sipp}, redis ${m.redis}`;
}

/** bench/results/<timestamp>: a sortable, filesystem-safe stamp. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[:]/g, '').replace(/\..+$/, 'Z');
}
