import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, findExecutable, freeLoopbackPort, portInUse, terminate, track, waitUntil } from './localProcess.js';

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

// ---------------------------------------------------------------- message trace

export interface SipMessage {
  readonly direction: 'sent' | 'received';
  /** 'UDP' | 'TCP' as SIPp logs it. */
  readonly transport: string;
  readonly timestamp: string;
  readonly firstLine: string;
  /** Request method (requests only). */
  readonly method?: string;
  /** Request-URI (requests only). */
  readonly requestUri?: string;
  /** Status code (responses only). */
  readonly status?: number;
  readonly reason?: string;
  /**
   * Lower-case full header name -> values, one per header line, in order
   * (compact forms like `i:` are expanded; comma-separated values are not split).
   */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: string;
  readonly raw: string;
}

const COMPACT_HEADERS: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via', r: 'refer-to', b: 'referred-by', o: 'event', x: 'session-expires', u: 'allow-events',
};

/** Parses one SIP message (request or response) from its text; the body keeps its line endings (CRLF on the wire). */
export function parseSipMessage(text: string, meta: { direction: 'sent' | 'received'; transport: string; timestamp: string }): SipMessage {
  const raw = text.replace(/^(\r?\n)+/, '');
  const blank = /\r?\n\r?\n/.exec(raw);
  const head = blank ? raw.slice(0, blank.index) : raw.replace(/\s+$/, '');
  const rest = blank ? raw.slice(blank.index + blank[0].length) : '';
  const [firstLine = '', ...lines] = head.split(/\r?\n/);
  const headers: Record<string, string[]> = {};
  let last: string[] | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last && last.length > 0) {
      last[last.length - 1] = `${last[last.length - 1]} ${line.trim()}`; // folded line
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT_HEADERS[rawName] ?? rawName;
    last = headers[name] ??= [];
    last.push(line.slice(colon + 1).trim());
  }
  const length = Number(headers['content-length']?.[0]);
  // SIPp appends its own newline(s) after each message: Content-Length says where the body ends.
  const body = Number.isFinite(length) ? Buffer.from(rest, 'utf8').subarray(0, length).toString('utf8') : rest.replace(/(\r?\n)+$/, '');
  const response = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(firstLine);
  const request = /^([A-Z]+)\s+(\S+)\s+SIP\/2\.0$/.exec(firstLine);
  return {
    ...meta,
    firstLine,
    ...(request ? { method: request[1], requestUri: request[2] } : {}),
    ...(response ? { status: Number(response[1]), reason: response[2] } : {}),
    headers,
    body,
    raw,
  };
}

const TRACE_SEPARATOR = /^-{10,} (\d{4}-\d\d-\d\d [\d:.]+)\s*$/;
const TRACE_DIRECTION = /^(\w+) message (sent|received)\b/;

/** Parses SIPp's -trace_msg file (`---- timestamp` / `UDP message sent (N bytes):` / message). */
export function parseMessageTrace(text: string): SipMessage[] {
  const messages: SipMessage[] = [];
  const lines = text.split('\n');
  let current: { timestamp: string; direction?: 'sent' | 'received'; transport?: string; body: string[] } | null = null;
  const flush = (): void => {
    if (current?.direction && current.transport) {
      const raw = current.body.join('\n');
      if (raw.trim()) messages.push(parseSipMessage(raw, { direction: current.direction, transport: current.transport, timestamp: current.timestamp }));
    }
  };
  for (const line of lines) {
    const separator = TRACE_SEPARATOR.exec(line);
    if (separator) {
      flush();
      current = { timestamp: separator[1] ?? '', body: [] };
      continue;
    }
    if (!current) continue;
    if (!current.direction) {
      const direction = TRACE_DIRECTION.exec(line);
      if (direction) {
        current.transport = direction[1] ?? '';
        current.direction = direction[2] as 'sent' | 'received';
      }
      continue;
    }
    current.body.push(line);
  }
  flush();
  return messages;
}

/** Values of a header (case-insensitive name), [] when absent. */
export function headerValues(message: SipMessage | undefined, name: string): readonly string[] {
  const key = name.toLowerCase();
  return message?.headers[COMPACT_HEADERS[key] ?? key] ?? [];
}

/** First value of a header, undefined when absent. */
export function header(message: SipMessage | undefined, name: string): string | undefined {
  return headerValues(message, name)[0];
}

function cseqMethod(message: SipMessage): string | undefined {
  return header(message, 'cseq')?.split(/\s+/)[1]?.toUpperCase();
}

/** Requests this SIPp instance received (optionally of one method). UDP retransmissions appear more than once. */
export function receivedRequests(messages: readonly SipMessage[], method?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'received' && m.method !== undefined && (method === undefined || m.method === method.toUpperCase()));
}

export function sentRequests(messages: readonly SipMessage[], method?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'sent' && m.method !== undefined && (method === undefined || m.method === method.toUpperCase()));
}

/** Responses this SIPp instance received, optionally only those for one CSeq method. */
export function receivedResponses(messages: readonly SipMessage[], cseq?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'received' && m.status !== undefined && (cseq === undefined || cseqMethod(m) === cseq.toUpperCase()));
}

export function sentResponses(messages: readonly SipMessage[], cseq?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'sent' && m.status !== undefined && (cseq === undefined || cseqMethod(m) === cseq.toUpperCase()));
}

/** The first final (>= 200) response received for the given CSeq method (INVITE by default). */
export function finalResponse(messages: readonly SipMessage[], cseq = 'INVITE'): SipMessage | undefined {
  return receivedResponses(messages, cseq).find((m) => (m.status ?? 0) >= 200);
}

// ---------------------------------------------------------------- statistics

export interface SippStats {
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  readonly current: number;
  readonly retransmissions: number;
  readonly unexpectedMessages: number;
  readonly timeoutsOnRecv: number;
  /** Every cumulative counter of the last line, e.g. raw['FailedRegexpHdrNotFound(C)']. */
  readonly raw: Readonly<Record<string, string>>;
}

/** The cumulative counters of the last line of a -trace_stat CSV (`;`-separated). */
export function parseStatsCsv(text: string): SippStats | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const headerLine = lines[0];
  const lastLine = lines[lines.length - 1];
  if (!headerLine || !lastLine || lines.length < 2) return undefined;
  const names = headerLine.split(';');
  const values = lastLine.split(';');
  const raw: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name) raw[name] = values[i] ?? '';
  });
  const n = (name: string): number => Number(raw[name] ?? 0) || 0;
  return {
    created: n('TotalCallCreated'),
    successful: n('SuccessfulCall(C)'),
    failed: n('FailedCall(C)'),
    current: n('CurrentCall'),
    retransmissions: n('Retransmissions(C)'),
    unexpectedMessages: n('FailedUnexpectedMessage(C)'),
    timeoutsOnRecv: n('FailedTimeoutOnRecv(C)'),
    raw,
  };
}

// ---------------------------------------------------------------- running SIPp

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
    stop: async () => {
      await terminate(proc, 'SIGTERM', 3_000);
      return done;
    },
  };
}
