import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, findExecutable, freeLoopbackPort, portInUse, terminate, track, waitUntil } from './localProcess.js';
import { parseMessageTrace, parseStatsCsv, type SipMessage, type SippStats } from './sipTrace.js';

export * from './sipTrace.js';

export const SIPP = findExecutable('sipp');
export const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sipp-scenarios');

/**
 * SIPp aborts on a [key] it was not given, so every run passes these unless
 * overridden. caller: From / P-Asserted-Identity user of the carrier scenarios;
 * hold: ms between ACK and BYE; silence: ms uac-carrier-silence waits.
 */
export const DEFAULT_KEYS: Readonly<Record<string, string>> = {
  caller: '+15557654321',
  hold: '500',
  silence: '2000',
};

export type SippTransport = 'u1' | 't1';

/** `uac-carrier-answered`, `uac-carrier-answered.xml`, or a path to any scenario file. */
export function scenarioPath(scenario: string): string {
  if (isAbsolute(scenario) || scenario.includes('/')) return scenario;
  const file = join(SCENARIO_DIR, scenario.endsWith('.xml') ? scenario : `${scenario}.xml`);
  if (!existsSync(file)) throw new Error(`no SIPp scenario ${file}`);
  return file;
}

interface Files {
  readonly dir: string;
  readonly messages: string;
  readonly errors: string;
  readonly stats: string;
}

function files(prefix: string): Files {
  const dir = mkdtempSync(join(tmpdir(), `sip-edge-sipp-${prefix}-`));
  return { dir, messages: join(dir, 'messages.log'), errors: join(dir, 'errors.log'), stats: join(dir, 'stats.csv') };
}

const readIfExists = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

function keyArgs(keys: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries({ ...DEFAULT_KEYS, ...keys }).flatMap(([name, value]) => ['-key', name, value]);
}

function commonArgs(f: Files, ip: string, port: number, transport: SippTransport): string[] {
  return [
    '-t', transport,
    '-i', ip, '-bind_local', '-p', String(port),
    '-mi', ip, '-ci', '127.0.0.1',
    '-nostdin',
    '-trace_msg', '-message_file', f.messages,
    '-trace_err', '-error_file', f.errors,
    '-trace_stat', '-stf', f.stats,
  ];
}

function capture(proc: ChildProcess): { stdout: () => string; stderr: () => string } {
  const limit = 256_000;
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    if (stdout.length < limit) stdout += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < limit) stderr += chunk.toString();
  });
  return { stdout: () => stdout, stderr: () => stderr };
}

function spawnSipp(args: string[], cwd: string): ChildProcess {
  if (!SIPP) throw new Error("'sipp' not found on PATH (apt-get install sip-tester)");
  const proc = spawn(SIPP, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.on('error', () => undefined);
  return track(proc);
}

export interface SippRunResult {
  /** 0: all calls successful, 1: at least one failed, 97/99/255: see `sipp -h`; null when killed. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when our own kill timer had to end it. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly messages: SipMessage[];
  /** Content of the -trace_err file ('' when SIPp wrote none). Receive timeouts with ontimeout are logged here too. */
  readonly errors: string;
  readonly stats?: SippStats;
  /** Temp dir with messages.log, errors.log, stats.csv (already removed unless keepFiles). */
  readonly dir: string;
  readonly args: readonly string[];
}

function collect(
  f: Files,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  timedOut: boolean,
  output: { stdout: () => string; stderr: () => string },
  args: readonly string[],
  keepFiles: boolean,
): SippRunResult {
  const result: SippRunResult = {
    exitCode: exit.code,
    signal: exit.signal,
    timedOut,
    stdout: output.stdout(),
    stderr: output.stderr(),
    messages: parseMessageTrace(readIfExists(f.messages)),
    errors: readIfExists(f.errors),
    stats: parseStatsCsv(readIfExists(f.stats)),
    dir: f.dir,
    args,
  };
  if (!keepFiles) rmSync(f.dir, { recursive: true, force: true });
  return result;
}

export interface SippUacOptions {
  /** Scenario name in sipp-scenarios/ (with or without .xml) or a path. */
  readonly scenario: string;
  /** 'host:port' to send to (loopback). */
  readonly target: string;
  /** Source address, any of 127.0.0.0/8 (127.0.0.1 by default). */
  readonly sourceIp?: string;
  readonly transport?: SippTransport;
  /** Dialled user of the Request-URI (-s). */
  readonly service?: string;
  /** Calls to place (-m), 1 by default. */
  readonly calls?: number;
  /** Calls per second (-r). */
  readonly rate?: number;
  /** Max simultaneous calls (-l). */
  readonly limit?: number;
  /** Per-call receive timeout (-recv_timeout): an expected message not arriving in time fails the call. */
  readonly callTimeoutMs?: number;
  /** -key name value pairs, merged over DEFAULT_KEYS. */
  readonly keys?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
  /** Hard bound for the whole run: SIPp's -timeout (fails the run) plus our own SIGKILL 2 s later. */
  readonly timeoutMs?: number;
  /** Keep the temp dir with SIPp's files (removed once read, by default). */
  readonly keepFiles?: boolean;
}

/** Runs a SIPp client scenario to completion (bounded) and returns its traces. */
export async function runSippUac(options: SippUacOptions): Promise<SippRunResult> {
  const f = files('uac');
  const ip = options.sourceIp ?? '127.0.0.1';
  const port = await freeLoopbackPort({ host: ip });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = [
    options.target,
    '-sf', scenarioPath(options.scenario),
    ...commonArgs(f, ip, port, options.transport ?? 'u1'),
    '-m', String(options.calls ?? 1),
    ...(options.service !== undefined ? ['-s', options.service] : []),
    ...(options.rate !== undefined ? ['-r', String(options.rate)] : []),
    ...(options.limit !== undefined ? ['-l', String(options.limit)] : []),
    ...(options.callTimeoutMs !== undefined ? ['-recv_timeout', String(options.callTimeoutMs)] : []),
    '-timeout', `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`, '-timeout_error',
    ...keyArgs(options.keys),
    ...(options.extraArgs ?? []),
  ];
  const proc = spawnSipp(args, f.dir);
  const output = capture(proc);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, timeoutMs + 2_000);
  const exit = await exited(proc);
  clearTimeout(killer);
  return collect(f, exit, timedOut, output, args, options.keepFiles ?? false);
}

export interface SippUasOptions {
  readonly scenario: string;
  /** Listen address, 127.0.0.1 by default. */
  readonly ip?: string;
  /** Listen port, a free one by default. */
  readonly port?: number;
  readonly transport?: SippTransport;
  /** Exit by itself after this many calls (-m); runs until stop() otherwise. */
  readonly calls?: number;
  readonly keys?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
  /** Hard bound: SIGKILL after this long even without stop() (120 s by default). */
  readonly timeoutMs?: number;
  /** Keep the temp dir with SIPp's files (removed once SIPp has exited and they are read, by default). */
  readonly keepFiles?: boolean;
  /** User part of `uri` ('agent' by default; SIPp answers any user). */
  readonly user?: string;
}

export interface SippUas {
  readonly ip: string;
  readonly port: number;
  readonly transport: SippTransport;
  /** sip:agent@ip:port (;transport=tcp for t1): what an agent record points at. */
  readonly uri: string;
  readonly dir: string;
  /** The message trace so far (SIPp flushes it per message). */
  messages(): SipMessage[];
  /** Polls the trace until `predicate` holds; bounded. */
  waitFor(predicate: (messages: SipMessage[]) => boolean, timeoutMs?: number): Promise<SipMessage[]>;
  /** Resolves when SIPp exits by itself (after `calls` calls) or is stopped. */
  readonly done: Promise<SippRunResult>;
  /** Waits (bounded, 10 s by default) for SIPp to exit by itself after `calls` calls, then stop()s it regardless. */
  finished(timeoutMs?: number): Promise<SippRunResult>;
  /** SIGTERM (SIPp still writes its final statistics), SIGKILL after 3 s. */
  stop(): Promise<SippRunResult>;
}

/** Starts a SIPp server scenario (an agent) and resolves once it listens. */
export async function startSippUas(options: SippUasOptions): Promise<SippUas> {
  const f = files('uas');
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freeLoopbackPort({ host: ip }));
  const transport = options.transport ?? 'u1';
  const args = [
    '-sf', scenarioPath(options.scenario),
    ...commonArgs(f, ip, port, transport),
    ...(options.calls !== undefined ? ['-m', String(options.calls)] : []),
    ...keyArgs(options.keys),
    ...(options.extraArgs ?? []),
  ];
  const proc = spawnSipp(args, f.dir);
  const output = capture(proc);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  let result: SippRunResult | undefined;
  const done = exited(proc).then((exit): SippRunResult => {
    clearTimeout(killer);
    result = collect(f, exit, timedOut, output, args, options.keepFiles ?? false);
    return result;
  });
  let exitedEarly = false;
  void done.then(() => {
    exitedEarly = true;
  });
  try {
    await waitUntil(
      async () => {
        if (exitedEarly) throw new Error(`sipp UAS exited during start: ${output.stderr()} ${output.stdout().slice(-1_000)} ${readIfExists(f.errors)}`);
        return portInUse(ip, port, transport === 't1' ? 'tcp' : 'udp');
      },
      { timeoutMs: 5_000, what: `sipp UAS listening on ${ip}:${port}` },
    );
  } catch (err) {
    await terminate(proc, 'SIGKILL');
    throw err;
  }
  const messages = (): SipMessage[] => result?.messages ?? parseMessageTrace(readIfExists(f.messages));
  return {
    ip,
    port,
    transport,
    uri: `sip:${options.user ?? 'agent'}@${ip}:${port}${transport === 't1' ? ';transport=tcp' : ''}`,
    dir: f.dir,
    messages,
    waitFor: async (predicate, timeoutMs = 10_000) => {
      let seen: SipMessage[] = [];
      await waitUntil(
        () => {
          seen = messages();
          return predicate(seen);
        },
        { timeoutMs, what: `the SIPp UAS on ${ip}:${port} to see the expected messages` },
      );
      return seen;
    },
    done,
    finished: async (timeoutMs = 10_000) => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([done, expired]);
      clearTimeout(timer);
      await terminate(proc, 'SIGTERM', 3_000);
      return done;
    },
    stop: async () => {
      await terminate(proc, 'SIGTERM', 3_000);
      return done;
    },
  };
}

/** Starts a UAS, runs `body`, and always stops the UAS afterwards. */
export async function withSippUas<T>(options: SippUasOptions, body: (uas: SippUas) => Promise<T>): Promise<T> {
  const uas = await startSippUas(options);
  try {
    return await body(uas);
  } finally {
    await uas.stop();
  }
}

/** The headers uas-agent-checks-headers.xml requires on the INVITE the agent receives. */
export const CHECKED_AGENT_HEADERS = ['X-Workspace-Id', 'X-Agent-Id', 'X-Number-Id', 'X-Trunk-Id', 'X-Original-Called', 'X-Caller'] as const;
