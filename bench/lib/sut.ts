/**
 * The two systems under test as separate processes, started the same way: the full sip-edge
 * (src/main.ts through tsx, or dist/main.js) configured by a YAML file, and the bare drachtio-srf
 * B2BUA of bareB2bua.ts. Their output goes to a file, never through a pipe to this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { ENV_OVERRIDES } from '../../src/config/load.js';
import type { DrachtioServer } from '../../test/helpers/drachtioServer.js';
import { exited, freeLoopbackPort, terminate, track, waitUntil } from '../../test/helpers/localProcess.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export type Runner = 'tsx' | 'dist';

export interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface RunningProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  pid(): number | null;
  /** Full GC in the process, then its process.memoryUsage() (see memoryProbe.mjs); null when it does not answer. */
  memoryAfterGc(): Promise<MemoryUsage | null>;
  /** SIGTERM, then SIGKILL after graceMs */
  stop(graceMs?: number): Promise<void>;
  logTail(chars?: number): string;
}

/** The environment of a child edge: ours without the variables that would override its config file. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of Object.keys(ENV_OVERRIDES)) delete env[name];
  return env;
}

const PROBE = join(ROOT, 'bench/lib/memoryProbe.mjs');

/** The Node flags production runs the edge with (package.json start, Dockerfile); the bare B2BUA gets the same. */
export const NODE_FLAGS = ['--max-semi-space-size=64'];

function spawnLogged(name: string, args: string[], logFile: string, env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): RunningProcess {
  const out = openSync(logFile, 'a');
  const memoryFile = `${logFile}.memory.json`;
  const proc = track(
    spawn(process.execPath, [...NODE_FLAGS, ...nodeFlags, '--expose-gc', '--import', PROBE, ...args], { cwd: ROOT, env: { ...env, BENCH_MEMORY_FILE: memoryFile }, stdio: ['ignore', out, out] }),
  );
  closeSync(out);
  proc.on('error', () => undefined);
  const logTail = (chars = 3_000): string => {
    if (!existsSync(logFile)) return '';
    const text = readFileSync(logFile, 'utf8');
    return text.slice(-chars);
  };
  return {
    name,
    proc,
    logFile,
    pid: () => (proc.exitCode === null && proc.signalCode === null ? (proc.pid ?? null) : null),
    stop: async (graceMs = 20_000) => {
      await terminate(proc, 'SIGTERM', graceMs);
    },
    memoryAfterGc: async () => {
      rmSync(memoryFile, { force: true });
      if (!proc.pid || proc.exitCode !== null) return null;
      proc.kill('SIGUSR2');
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (existsSync(memoryFile)) {
          try {
            return JSON.parse(readFileSync(memoryFile, 'utf8')) as MemoryUsage;
          } catch {
            // half written: next round
          }
        }
      }
      return null;
    },
    logTail,
  };
}

export interface EdgeProcess extends RunningProcess {
  readonly adminUrl: string;
  readonly token: string;
  readonly configFile: string;
  api(path: string, init?: { method?: string; body?: unknown; contentType?: string }): Promise<{ status: number; body: any }>;
  /** One value of /metrics (summed over label sets matching `labels`), null when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number | null>;
}

export interface EdgeOptions {
  readonly drachtio: DrachtioServer;
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly dir: string;
  readonly runner: Runner;
  readonly logLevel: string;
  /** write a V8 CPU profile (.cpuprofile) into this directory when the edge exits */
  readonly cpuProfDir?: string;
  /** Node flags on top of the production ones (e.g. a heap cap) */
  readonly nodeFlags?: readonly string[];
  /** merged over the bench defaults (top-level sections replace whole) */
  readonly config?: Record<string, unknown>;
  readonly readyTimeoutMs?: number;
}

/** Parses Prometheus text and sums the samples of `name` whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
    sum = (sum ?? 0) + Number(m[4]);
  }
  return sum;
}

/** The edge as operators run it, in its own process; resolves once /readyz says ready. */
export async function startEdgeProcess(o: EdgeOptions): Promise<EdgeProcess> {
  const port = await freeLoopbackPort({ udp: false });
  const token = randomBytes(16).toString('hex');
  const config = {
    instance_id: 'bench',
    log_level: o.logLevel,
    redis: { url: o.redisUrl, key_prefix: o.keyPrefix },
    drachtio: { host: o.drachtio.host, port: o.drachtio.adminPort, secret: o.drachtio.secret, reconnect_max_ms: 500 },
    admin: { host: '127.0.0.1', port, token, import_max_rows: 10_000 },
    shutdown: { drain_timeout_s: 2 },
    billing: { spool_dir: join(o.dir, 'billing-spool') },
    ...o.config,
  };
  const configFile = join(o.dir, 'sip-edge.yaml');
  writeFileSync(configFile, stringify(config));
  const entry = o.runner === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const prof = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
  const running = spawnLogged('edge', [...prof, ...entry], join(o.dir, 'edge.log'), childEnv({ SIP_EDGE_CONFIG: configFile }), o.nodeFlags);
  const adminUrl = `http://127.0.0.1:${port}`;
  const api: EdgeProcess['api'] = async (path, init = {}) => {
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    const res = await fetch(`${adminUrl}${path}`, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': init.contentType ?? 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // /metrics is text
    }
    return { status: res.status, body: parsed };
  };
  try {
    await waitUntil(
      async () => {
        if (running.pid() === null) throw new Error(`edge exited during start:\n${running.logTail()}`);
        const ready = await api('/readyz').catch(() => null);
        return ready?.status === 200;
      },
      { timeoutMs: o.readyTimeoutMs ?? 30_000, intervalMs: 200, what: 'the edge to be ready (/readyz)' },
    );
  } catch (err) {
    await running.stop(2_000);
    throw new Error(`${(err as Error).message}\n${running.logTail()}`);
  }
  return {
    ...running,
    adminUrl,
    token,
    configFile,
    api,
    metric: async (name, labels) => {
      const res = await api('/metrics').catch(() => null);
      return res && typeof res.body === 'string' ? metricValue(res.body, name, labels) : null;
    },
  };
}

/** bench/bareB2bua.ts against a drachtio-server; resolves once it is connected. */
export async function startBareB2bua(o: { drachtio: DrachtioServer; agentUri: string; dir: string; cpuProfDir?: string }): Promise<RunningProcess> {
  const prof = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
  const args = [...prof, '--import', 'tsx', join(ROOT, 'bench/bareB2bua.ts'), o.drachtio.host, String(o.drachtio.adminPort), o.drachtio.secret, o.agentUri];
  const running = spawnLogged('bare-b2bua', args, join(o.dir, 'bare-b2bua.log'), childEnv({}));
  await waitUntil(
    () => {
      if (running.pid() === null) throw new Error(`bare B2BUA exited during start:\n${running.logTail()}`);
      return running.logTail().includes('connected');
    },
    { timeoutMs: 15_000, intervalMs: 100, what: 'the bare B2BUA to connect to drachtio' },
  );
  return running;
}

export { exited };
