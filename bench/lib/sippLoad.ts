/**
 * SIPp for load: the same binary, scenarios and stats parser as the test harness
 * (test/helpers/sipp.ts), but without its -trace_msg message log, which at hundreds of calls per
 * second costs SIPp more CPU than the calls themselves and writes hundreds of MB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exited, freeLoopbackPort, portInUse, terminate, track, waitUntil } from '../../test/helpers/localProcess.js';
import { parseStatsCsv, scenarioPath, SIPP, type SippStats } from '../../test/helpers/sipp.js';
import { parseSetupLog, type SetupTimings } from './stats.js';

const readIfExists = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

function spawnSipp(args: string[], cwd: string): ChildProcess {
  if (!SIPP) throw new Error("'sipp' not found on PATH (apt-get install sip-tester)");
  const proc = spawn(SIPP, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.on('error', () => undefined);
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString();
  });
  (proc as ChildProcess & { stderrText: () => string }).stderrText = () => stderr;
  return track(proc);
}

const stderrOf = (proc: ChildProcess): string => (proc as ChildProcess & { stderrText?: () => string }).stderrText?.() ?? '';

export interface LoadUas {
  readonly ip: string;
  readonly port: number;
  /** sip:agent@ip:port;transport=udp */
  readonly uri: string;
  pid(): number | null;
  /** Calls the agent has open now, from its per-second statistics (null before the first line). */
  currentCalls(): number | null;
  /** SIGTERM (SIPp writes its final statistics), SIGKILL after 3 s; returns its cumulative stats. */
  stop(): Promise<SippStats | undefined>;
}

/** A SIPp agent (uas-agent-answer by default) that runs until stop(), with statistics only. */
export async function startLoadUas(options: { ip: string; dir: string; scenario?: string; port?: number }): Promise<LoadUas> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freeLoopbackPort({ host: options.ip }));
  const stats = join(options.dir, 'stats.csv');
  const args = [
    '-sf', scenarioPath(options.scenario ?? 'uas-agent-answer'),
    '-t', 'u1', '-i', options.ip, '-bind_local', '-p', String(port), '-mi', options.ip, '-ci', '127.0.0.1',
    '-nostdin',
    '-trace_err', '-error_file', join(options.dir, 'errors.log'),
    '-trace_stat', '-stf', stats, '-fd', '1',
    '-buff_size', String(4 * 1024 * 1024),
  ];
  const proc = spawnSipp(args, options.dir);
  await waitUntil(
    async () => {
      if (proc.exitCode !== null) throw new Error(`sipp UAS exited during start: ${stderrOf(proc)}`);
      return portInUse(options.ip, port, 'udp');
    },
    { timeoutMs: 5_000, what: `sipp UAS on ${options.ip}:${port}` },
  );
  return {
    ip: options.ip,
    port,
    // SIPp listens on UDP only (-t u1): the URI says so, or the edge would send every INVITE over
    // 1300 bytes (RFC 3261 18.1.1; src/calls/agentTransport.ts) to TCP first, be refused, and retry
    // over UDP: two attempts per call, which no agent reachable over TCP would cost.
    uri: `sip:agent@${options.ip}:${port};transport=udp`,
    pid: () => (proc.exitCode === null ? (proc.pid ?? null) : null),
    currentCalls: () => parseStatsCsv(readIfExists(stats))?.current ?? null,
    stop: async () => {
      await terminate(proc, 'SIGTERM', 3_000);
      return parseStatsCsv(readIfExists(stats));
    },
  };
}

export interface UacRunOptions {
  /** host:port of the system under test */
  readonly target: string;
  readonly sourceIp: string;
  /** where SIPp writes stats.csv, setup.log, errors.log */
  readonly dir: string;
  /** injection file: SEQUENTIAL, then one dialled number per line */
  readonly numbersFile: string;
  readonly rate: number;
  readonly calls: number;
  /** max simultaneous calls (-l) */
  readonly limit: number;
  readonly holdMs: number;
  /** hard bound of the whole run: SIPp's -timeout, then SIGKILL 3 s later */
  readonly timeoutMs: number;
  readonly scenario?: string;
  readonly caller?: string;
  /** a call waiting longer than this for a response fails (-recv_timeout); 10 s by default */
  readonly recvTimeoutMs?: number;
  /** called with the pid once SIPp runs (to sample its CPU) */
  readonly onStart?: (pid: number) => void;
}

export interface UacRunResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly stats: SippStats | undefined;
  readonly timings: SetupTimings;
  readonly stderr: string;
  /** the first lines of SIPp's error file ('' when none) */
  readonly errorsHead: string;
  readonly args: readonly string[];
}

/** One SIPp carrier run (uac-load-answered): -m calls at -r rate, bounded by timeoutMs. */
export async function runLoadUac(o: UacRunOptions): Promise<UacRunResult> {
  mkdirSync(o.dir, { recursive: true });
  const port = await freeLoopbackPort({ host: o.sourceIp });
  const stats = join(o.dir, 'stats.csv');
  const log = join(o.dir, 'setup.log');
  const errors = join(o.dir, 'errors.log');
  const args = [
    o.target,
    '-sf', scenarioPath(o.scenario ?? 'uac-load-answered'),
    '-inf', o.numbersFile,
    '-t', 'u1', '-i', o.sourceIp, '-bind_local', '-p', String(port), '-mi', o.sourceIp, '-ci', '127.0.0.1',
    '-nostdin',
    '-r', String(o.rate), '-rp', '1000', '-m', String(o.calls), '-l', String(o.limit),
    '-key', 'caller', o.caller ?? '+15557654321', '-key', 'hold', String(Math.round(o.holdMs)),
    '-recv_timeout', String(o.recvTimeoutMs ?? 10_000),
    '-trace_logs', '-log_file', log,
    '-trace_err', '-error_file', errors,
    // the final screen: per scenario line, messages sent/received, retransmissions, timeouts
    '-trace_screen', '-screen_file', join(o.dir, 'screen.log'),
    '-trace_stat', '-stf', stats, '-fd', '1',
    '-buff_size', String(4 * 1024 * 1024),
    '-timeout', `${Math.max(1, Math.ceil(o.timeoutMs / 1000))}s`, '-timeout_error',
  ];
  const proc = spawnSipp(args, o.dir);
  if (proc.pid) o.onStart?.(proc.pid);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, o.timeoutMs + 3_000);
  const exit = await exited(proc);
  clearTimeout(killer);
  const errorText = readIfExists(errors);
  const parsed = parseStatsCsv(readIfExists(stats));
  return {
    exitCode: exit.code,
    // -timeout ended it with calls still open, or our SIGKILL did
    timedOut: timedOut || (parsed !== undefined && (parsed.current > 0 || parsed.created < o.calls)),
    stats: parsed,
    timings: parseSetupLog(readIfExists(log)),
    stderr: stderrOf(proc),
    errorsHead: errorText.slice(0, 2_000),
    args,
  };
}
