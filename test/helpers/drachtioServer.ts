import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { generateSelfSignedCert } from './certs.js';
import { canConnect, exited, findExecutable, freeLoopbackPort, terminate, track, waitUntil } from './localProcess.js';

/** The drachtio-server binary: $DRACHTIO_BIN when set, else `drachtio` on PATH. */
export function drachtioBinary(): string | null {
  const fromEnv = process.env.DRACHTIO_BIN;
  if (fromEnv) return findExecutable(fromEnv);
  return findExecutable('drachtio');
}

export const DRACHTIO = drachtioBinary();
export const SIPP_BIN = findExecutable('sipp');
export const REDIS_SERVER_BIN = findExecutable('redis-server');

/** What an end-to-end test needs and is missing, in words. */
export function missingE2ETools(): string[] {
  const missing: string[] = [];
  if (!DRACHTIO) {
    missing.push(
      process.env.DRACHTIO_BIN
        ? `drachtio-server binary DRACHTIO_BIN='${process.env.DRACHTIO_BIN}' is not an executable file`
        : "drachtio-server binary 'drachtio' not found on PATH (set DRACHTIO_BIN or install it)",
    );
  }
  if (!SIPP_BIN) missing.push("'sipp' not found on PATH (apt-get install sip-tester)");
  if (!REDIS_SERVER_BIN) missing.push("'redis-server' not found on PATH (apt-get install redis-server)");
  return missing;
}

let announced = false;
function announceSkip(missing: readonly string[]): void {
  if (announced) return;
  announced = true;
  process.stderr.write(`\n*** E2E SKIPPED: ${missing.join('; ')} ***\n\n`);
}

const missingAtLoad = missingE2ETools();
if (missingAtLoad.length > 0) announceSkip(missingAtLoad);

/** `describe` when drachtio, sipp and redis-server are all present; otherwise `describe.skip` (and one loud line on stderr). */
export const describeE2E = describe.skipIf(missingAtLoad.length > 0);

/** `describe` when sipp is present (SIPp-against-SIPp tests need nothing else). */
export const describeSipp = describe.skipIf(!SIPP_BIN);

export interface DrachtioOptions {
  /** Adds a TLS listener with a fresh self-signed certificate. */
  readonly tls?: boolean;
  /** Adds a WebSocket listener (the browser entry, plain ws). */
  readonly ws?: boolean;
  /** Adds a secure WebSocket listener (the browser entry, wss; with a fresh self-signed certificate). */
  readonly wss?: boolean;
  /** drachtio loglevel (notice by default: info logs every SIP message). */
  readonly loglevel?: 'error' | 'warning' | 'notice' | 'info' | 'debug';
  /** sofia-sip log level 0..9 (3 by default). */
  readonly sofiaLoglevel?: number;
  /** How long start() may take before it gives up. */
  readonly startTimeoutMs?: number;
}

export interface DrachtioServer {
  readonly host: '127.0.0.1';
  readonly adminPort: number;
  readonly secret: string;
  /** SIP over UDP and TCP on 127.0.0.1. */
  readonly sipPort: number;
  /** SIP over TLS on 127.0.0.1 (only with { tls: true }). */
  readonly tlsPort?: number;
  /** SIP over WebSocket on 127.0.0.1 (only with { ws: true }). */
  readonly wsPort?: number;
  /** SIP over secure WebSocket on 127.0.0.1 (only with { wss: true }). */
  readonly wssPort?: number;
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** What drachtio-srf's `srf.connect()` needs. */
  readonly connectOptions: { host: string; port: number; secret: string };
  /** The running process id, or null while stopped. */
  pid(): number | null;
  /** SIGTERM and wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL: a crash, for reconnect tests. */
  kill(): Promise<void>;
  /** Starts again with the same config and ports (after stop/kill). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** The last `maxChars` of the log file and the process's own output. */
  logTail(maxChars?: number): string;
  /** stop() and delete the temp dir. */
  dispose(): Promise<void>;
}

function configXml(p: {
  adminPort: number;
  secret: string;
  sipPort: number;
  tls?: { port: number; keyPath: string; certPath: string };
  wsPort?: number;
  wss?: { port: number; keyPath: string; certPath: string };
  logFile: string;
  archiveDir: string;
  loglevel: string;
  sofiaLoglevel: number;
}): string {
  // TLS contact: exactly `transport=tls,` with the trailing comma (without it sofia
  // refuses the bind; a sips: contact puts sips: into Contact). Without chain-file the
  // TLS transport is silently not added.
  const tlsContact = p.tls ? `\n      <contact>sip:127.0.0.1:${p.tls.port};transport=tls,</contact>` : '';
  // ws: a plain contact. wss: a sips: contact, the only form drachtio hands the TLS files to
  // (it passes them to contacts that mention "sips" or "tls"; `sip:...;transport=wss` fails to
  // bind with "Protocol not supported"). drachtio-srf reports both as protocol "tcp".
  const wsContact = p.wsPort ? `\n      <contact>sip:127.0.0.1:${p.wsPort};transport=ws</contact>` : '';
  const wssContact = p.wss ? `\n      <contact>sips:127.0.0.1:${p.wss.port};transport=wss</contact>` : '';
  const certs = p.tls ?? p.wss;
  const tlsBlock = certs
    ? `
    <tls>
      <key-file>${certs.keyPath}</key-file>
      <cert-file>${certs.certPath}</cert-file>
      <chain-file>${certs.certPath}</chain-file>
    </tls>`
    : '';
  return `<drachtio>
  <admin port="${p.adminPort}" secret="${p.secret}">127.0.0.1</admin>
  <sip>
    <contacts>
      <contact>sip:127.0.0.1:${p.sipPort};transport=udp,tcp</contact>${tlsContact}${wsContact}${wssContact}
    </contacts>${tlsBlock}
  </sip>
  <logging>
    <file>
      <name>${p.logFile}</name>
      <archive>${p.archiveDir}</archive>
      <size>100</size>
      <auto-flush>true</auto-flush>
    </file>
    <loglevel>${p.loglevel}</loglevel>
    <sofia-loglevel>${p.sofiaLoglevel}</sofia-loglevel>
  </logging>
</drachtio>
`;
}

function tail(path: string, maxChars: number): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  return text.length > maxChars ? text.slice(-maxChars) : text;
}

/**
 * A real drachtio-server on free loopback ports, configured in a temp dir.
 * Resolves once the admin port and the SIP TCP (and TLS) listeners accept connections.
 */
export async function startDrachtio(options: DrachtioOptions = {}): Promise<DrachtioServer> {
  const binary = DRACHTIO;
  if (!binary) throw new Error(missingE2ETools().join('; '));
  const dir = mkdtempSync(join(tmpdir(), 'sip-edge-drachtio-'));
  const adminPort = await freeLoopbackPort({ udp: false });
  const sipPort = await freeLoopbackPort();
  const secret = randomBytes(8).toString('hex');
  const logFile = join(dir, 'drachtio.log');
  const outFile = join(dir, 'stdout.log');
  const configFile = join(dir, 'drachtio.conf.xml');
  const cert = options.tls || options.wss ? generateSelfSignedCert({ dir }) : undefined;
  const tlsPort = options.tls ? await freeLoopbackPort({ udp: false }) : undefined;
  const wsPort = options.ws ? await freeLoopbackPort({ udp: false }) : undefined;
  const wssPort = options.wss ? await freeLoopbackPort({ udp: false }) : undefined;
  writeFileSync(
    configFile,
    configXml({
      adminPort,
      secret,
      sipPort,
      ...(cert && tlsPort ? { tls: { port: tlsPort, keyPath: cert.keyPath, certPath: cert.certPath } } : {}),
      ...(wsPort ? { wsPort } : {}),
      ...(cert && wssPort ? { wss: { port: wssPort, keyPath: cert.keyPath, certPath: cert.certPath } } : {}),
      logFile,
      archiveDir: join(dir, 'archive'),
      loglevel: options.loglevel ?? 'notice',
      sofiaLoglevel: options.sofiaLoglevel ?? 3,
    }),
  );
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  let proc: ChildProcess | null = null;

  const logTail = (maxChars = 4_000): string => `${tail(logFile, maxChars)}${tail(outFile, 1_000)}`;

  const start = async (): Promise<void> => {
    if (proc && proc.exitCode === null && proc.signalCode === null) throw new Error('drachtio is already running');
    const out = openSync(outFile, 'a');
    const child = spawn(binary, ['-f', configFile], { cwd: dir, stdio: ['ignore', out, out] });
    closeSync(out);
    track(child);
    proc = child;
    let exitedEarly = false;
    void exited(child).then(() => {
      exitedEarly = true;
    });
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const ports = [adminPort, sipPort, ...(tlsPort ? [tlsPort] : []), ...(wsPort ? [wsPort] : []), ...(wssPort ? [wssPort] : [])];
    try {
      await Promise.race([
        spawnError,
        waitUntil(
          async () => {
            if (exitedEarly) throw new Error(`drachtio exited during start (code ${child.exitCode}):\n${logTail()}`);
            for (const port of ports) if (!(await canConnect('127.0.0.1', port))) return false;
            return true;
          },
          { timeoutMs: startTimeoutMs, intervalMs: 50, what: `drachtio listening on ${ports.join(', ')}` },
        ),
      ]);
    } catch (err) {
      await terminate(child, 'SIGKILL');
      proc = null;
      throw err instanceof Error && err.message.includes('drachtio exited') ? err : new Error(`${String(err)}\n${logTail()}`);
    }
  };

  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const child = proc;
    proc = null;
    if (!child) return;
    await terminate(child, signal, 5_000);
  };

  await start();

  return {
    host: '127.0.0.1',
    adminPort,
    secret,
    sipPort,
    ...(tlsPort ? { tlsPort } : {}),
    ...(wsPort ? { wsPort } : {}),
    ...(wssPort ? { wssPort } : {}),
    ...(cert ? { certPath: cert.certPath, keyPath: cert.keyPath } : {}),
    dir,
    configFile,
    logFile,
    connectOptions: { host: '127.0.0.1', port: adminPort, secret },
    pid: () => (proc && proc.exitCode === null ? (proc.pid ?? null) : null),
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    start,
    restart: async () => {
      await stopWith('SIGTERM');
      await start();
    },
    logTail,
    dispose: async () => {
      await stopWith('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
