import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';

/** Absolute path of an executable: `name` itself when it is a path, else the first hit on PATH. */
export function findExecutable(name: string): string | null {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function tcpBindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function udpBindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

function osAssignedTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const handedOut = new Set<number>();

/**
 * A loopback port that is free for TCP and (by default) UDP at the same time,
 * as a SIP listener needs. Never hands out the same port twice in one process.
 */
export async function freeLoopbackPort(options: { host?: string; udp?: boolean; tcp?: boolean } = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const needUdp = options.udp ?? true;
  const needTcp = options.tcp ?? true;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await osAssignedTcpPort(host);
    if (handedOut.has(port)) continue;
    if (needTcp && !(await tcpBindable(host, port))) continue;
    if (needUdp && !(await udpBindable(host, port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port on ${host} after 50 attempts`);
}

/** True when something (another process) already holds host:port for that protocol. */
export async function portInUse(host: string, port: number, protocol: 'udp' | 'tcp'): Promise<boolean> {
  return !(protocol === 'udp' ? await udpBindable(host, port) : await tcpBindable(host, port));
}

/** One TCP connect attempt, closed at once. */
export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `check` until it returns true; bounded by timeoutMs. */
export async function waitUntil(check: () => boolean | Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(proc: ChildProcess): Promise<ExitInfo> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Sends `signal`, waits up to graceMs, then SIGKILL. */
export async function terminate(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<ExitInfo> {
  const exit = exited(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return exit;
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    return await exit;
  } finally {
    clearTimeout(timer);
  }
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Child processes still alive when the test worker exits are SIGKILLed (no orphans). */
export function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of children) child.kill('SIGKILL');
    });
  }
  return proc;
}
