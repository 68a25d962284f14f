import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { DrachtioServer } from '../../helpers/drachtioServer.js';
import { testPrefix } from '../../helpers/fixtures.js';
import { exited, freeLoopbackPort, type ExitInfo } from '../../helpers/localProcess.js';

export interface EdgeProcess {
  readonly proc: ChildProcess;
  readonly adminUrl: string;
  readonly token: string;
  readonly keyPrefix: string;
  readonly exit: Promise<ExitInfo>;
  output(): string;
  api(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: any }>;
  kill(signal: NodeJS.Signals): void;
}

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * The edge as operators run it: `src/main.ts` in its own process (through tsx), configured by a
 * YAML file plus environment, so signals (SIGTERM, SIGKILL) hit a real process.
 */
export async function spawnEdge(drachtio: DrachtioServer, redisUrl: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<EdgeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sip-edge-proc-'));
  const port = await freeLoopbackPort();
  const token = randomBytes(16).toString('hex');
  const keyPrefix = (extra.key_prefix as string | undefined) ?? testPrefix();
  const config = {
    log_level: 'info',
    redis: { url: redisUrl, key_prefix: keyPrefix },
    drachtio: { host: drachtio.host, port: drachtio.adminPort, secret: drachtio.secret, reconnect_max_ms: 500 },
    admin: { host: '127.0.0.1', port, token },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'key_prefix')),
  };
  const file = join(dir, 'sip-edge.yaml');
  writeFileSync(file, stringify(config));
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, SIP_EDGE_CONFIG: file, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exit = exited(proc);
  const adminUrl = `http://127.0.0.1:${port}`;
  const api: EdgeProcess['api'] = async (path, init = {}) => {
    const res = await fetch(`${adminUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  // Ready = drachtio connected and Redis loaded, as /readyz says.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`edge exited early:\n${out.slice(-2000)}`);
    const ready = await api('/readyz').catch(() => null);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`edge not ready: ${JSON.stringify(ready?.body)}\n${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, adminUrl, token, keyPrefix, exit, output: () => out, api, kill: (signal) => proc.kill(signal) };
}
