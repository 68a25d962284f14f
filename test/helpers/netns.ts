import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { findExecutable } from './localProcess.js';

/** Set in the environment of a process this helper started inside its own network namespace. */
export const NETNS_MARK = 'SIP_EDGE_TEST_NETNS';

/** Whether this process sees no network interface but loopback (a namespace of its own, or a bare machine). */
export function onlyLoopback(): boolean {
  return Object.values(networkInterfaces()).every((addresses) => (addresses ?? []).every((a) => a.internal));
}

const UNSHARE = findExecutable('unshare');
const IP = findExecutable('ip');

/** Why a command cannot run in a network namespace of its own here, or null when it can. */
export function netnsUnavailable(): string | null {
  if (!UNSHARE) return "'unshare' not found (util-linux)";
  if (!IP) return "'ip' not found (apt-get install iproute2)";
  return null;
}

/**
 * Runs a command in a new network namespace that has only loopback (up): every address it can
 * reach is on this machine's 127.0.0.0/8 and nothing it sends leaves. Root uses `unshare -n`;
 * others a user namespace too (`unshare -rn`). Resolves with the exit code and the output.
 */
export function runInNetns(command: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  const asRoot = process.getuid?.() === 0;
  const script = `${IP} link set lo up && exec "$@"`;
  const child = spawn(UNSHARE!, [asRoot ? '-n' : '-rn', '--', 'sh', '-c', script, 'sh', ...command], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, [NETNS_MARK]: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group: a timeout ends everything it started
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
