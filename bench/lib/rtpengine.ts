/**
 * rtpengine for the anchored side of the bench: userspace mode on loopback, its own ng port and a
 * port range wide enough for the calls the rate search can hold open, its log in a file, stopped
 * at cleanup like the other processes of a side.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort, terminate, track, waitUntil } from '../../test/helpers/localProcess.js';
import { ngPing, RTPENGINE_BIN } from '../../test/helpers/rtpengine.js';
import { onCleanup } from './cleanup.js';

/** RTP + RTCP on each of the two legs */
export const PORTS_PER_CALL = 4;

export interface PortRange {
  readonly min: number;
  readonly max: number;
  /** calls the range holds at once */
  readonly calls: number;
}

/**
 * The RTP port range for a rate search up to `maxRate` calls/s with calls held `holdS` seconds:
 * room for as many calls as SIPp may keep open in one step (rate x (hold + 4 s), its -l limit in
 * step.ts), and never less than `minPorts`. Starts at `base` (below which the test
 * harness's own rtpengines take their ranges); fails when it would pass port 65535.
 */
export function rtpPortRange(o: { maxRate: number; holdS: number; base?: number; minPorts?: number }): PortRange {
  const base = o.base ?? 30_000;
  const openCalls = Math.ceil(Math.max(0, o.maxRate) * (Math.max(0, o.holdS) + 4));
  const ports = Math.max(o.minPorts ?? 10_000, openCalls * PORTS_PER_CALL);
  const max = base + ports - 1;
  if (max > 65_535) throw new Error(`rtpengine would need ports ${base}-${max} for ${openCalls} open calls: lower --max or --hold`);
  return { min: base, max, calls: Math.floor(ports / PORTS_PER_CALL) };
}

export interface BenchRtpengine {
  /** ng control address, host:port */
  readonly ng: string;
  readonly range: PortRange;
  pid(): number | null;
  logTail(chars?: number): string;
  stop(): Promise<void>;
}

/**
 * Starts rtpengine (as docker/rtpengine runs it: userspace, its default log level, to stderr,
 * here into `dir`/rtpengine.log), resolves once it answers an ng ping. `--delete-delay=0` frees a
 * call's ports when the edge deletes it (the default keeps them 30 s, which at hundreds of calls
 * per second would hold tens of thousands of ports).
 */
export async function startBenchRtpengine(o: { dir: string; range: PortRange }): Promise<BenchRtpengine> {
  if (!RTPENGINE_BIN) throw new Error("'rtpengine' not found on PATH (apt-get install rtpengine-daemon; scripts/ensure-deps.sh does)");
  const ngPort = await freeLoopbackPort({ tcp: false });
  const logFile = join(o.dir, 'rtpengine.log');
  const out = openSync(logFile, 'a');
  const proc = track(
    spawn(
      RTPENGINE_BIN,
      [
        '--config-file=none', '--foreground', '--table=-1', '--log-stderr',
        '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`,
        `--port-min=${o.range.min}`, `--port-max=${o.range.max}`,
        '--delete-delay=0',
      ],
      { stdio: ['ignore', out, out] },
    ),
  );
  closeSync(out);
  proc.on('error', () => undefined);
  const logTail = (chars = 3_000): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-chars) : '');
  const stop = async (): Promise<void> => {
    await terminate(proc, 'SIGTERM', 5_000);
  };
  onCleanup('rtpengine', stop);
  await waitUntil(async () => proc.exitCode !== null || (await ngPing(ngPort)), { timeoutMs: 10_000, intervalMs: 100, what: `rtpengine on ng port ${ngPort}` });
  if (proc.exitCode !== null) throw new Error(`rtpengine exited with ${proc.exitCode}:\n${logTail()}`);
  return {
    ng: `127.0.0.1:${ngPort}`,
    range: o.range,
    pid: () => (proc.exitCode === null && proc.signalCode === null ? (proc.pid ?? null) : null),
    logTail,
    stop,
  };
}
