import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe } from 'vitest';
import { exited, findExecutable, freeLoopbackPort, terminate, track, waitUntil } from './localProcess.js';

/** rtpengine (Debian rtpengine-daemon): $RTPENGINE_BIN when set, else `rtpengine` on PATH. */
export const RTPENGINE_BIN = findExecutable(process.env.RTPENGINE_BIN ?? 'rtpengine');

if (!RTPENGINE_BIN) process.stderr.write("\n*** MEDIA TESTS SKIPPED: 'rtpengine' not found on PATH (apt-get install rtpengine-daemon; scripts/ensure-deps.sh does) ***\n\n");

/** `describe` when rtpengine is installed, else `describe.skip` (with one loud line on stderr). */
export const describeRtpengine = describe.skipIf(!RTPENGINE_BIN);

export interface Rtpengine {
  /** ng control address, host:port */
  readonly ng: string;
  readonly ngPort: number;
  /** the RTP port range it allocates from */
  readonly portMin: number;
  readonly portMax: number;
  output(): string;
  pid(): number | null;
  /** SIGKILL: rtpengine gone at once, like a crash */
  kill(): Promise<void>;
  /** starts it again on the same ports */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Answers true once an ng ping to host:port gets "pong". */
export function ngPing(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const cookie = `ping${Math.random().toString(36).slice(2, 10)}`;
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    socket.on('message', (msg) => done(msg.toString().startsWith(`${cookie} `) && msg.toString().includes('pong')));
    socket.on('error', () => done(false));
    socket.send(`${cookie} d7:command4:pinge`, port, host);
  });
}

let nextRange = 0;

/**
 * A real rtpengine in userspace mode (no kernel module) on loopback: its own ng port and its own
 * RTP port range, so several can run side by side.
 */
export async function startRtpengine(options: { ports?: number } = {}): Promise<Rtpengine> {
  if (!RTPENGINE_BIN) throw new Error('rtpengine not installed');
  const ngPort = await freeLoopbackPort({ tcp: false });
  const span = options.ports ?? 100;
  // ranges below the kernel's ephemeral ports (32768+), one per instance in this process
  const portMin = 20000 + ((process.pid * 7 + nextRange++ * 211) % 40) * 250;
  const portMax = portMin + span - 1;
  let proc: ChildProcess | null = null;
  let out = '';
  const start = async (): Promise<void> => {
    const child = spawn(
      RTPENGINE_BIN,
      ['--config-file=none', '--foreground', '--table=-1', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`, `--port-min=${portMin}`, `--port-max=${portMax}`, '--log-stderr', '--log-level=5', '--delete-delay=0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    track(child);
    child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
    child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
    proc = child;
    await waitUntil(async () => child.exitCode !== null || (await ngPing(ngPort)), { timeoutMs: 10_000, intervalMs: 100, what: `rtpengine on ng port ${ngPort}` });
    if (child.exitCode !== null) throw new Error(`rtpengine exited with ${child.exitCode}: ${out.slice(-1500)}`);
  };
  await start();
  return {
    ng: `127.0.0.1:${ngPort}`,
    ngPort,
    portMin,
    portMax,
    output: () => out,
    pid: () => (proc && proc.exitCode === null ? (proc.pid ?? null) : null),
    async kill() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      p.kill('SIGKILL');
      await exited(p);
    },
    start,
    async stop() {
      const p = proc;
      proc = null;
      if (p) await terminate(p, 'SIGTERM', 3000);
    },
  };
}
