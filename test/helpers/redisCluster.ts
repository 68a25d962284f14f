import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A loopback port that is free, and whose cluster bus port (+10000) is free too. */
async function freeClusterPort(): Promise<number> {
  const tryPort = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await tryPort(port)) && (await tryPort(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

export interface ClusterNode {
  readonly port: number;
  readonly address: string;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `redis://` URL of the first node (a seed) */
  readonly url: string;
  /** host:port of every node, for `redis.nodes` */
  readonly seeds: readonly string[];
  /** runs redis-cli against one node */
  cli(port: number, ...args: string[]): Promise<string>;
  /** the ports of the current masters */
  masters(): Promise<number[]>;
  /** SIGKILLs one node (a failover follows after the node timeout when it was a master) */
  kill(port: number): void;
  /** SIGSTOP / SIGCONT one node */
  pause(port: number): void;
  resume(port: number): void;
  /** resolves when every live node agrees the cluster is ok with all 16384 slots served, and every live replica is in sync */
  waitHealthy(timeoutMs: number): Promise<void>;
  /** resolves when every live master's replicas have acknowledged all of its writes so far */
  waitReplicated(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of 3 masters and 3 replicas from Debian's redis-server, on free loopback
 * ports, no persistence, cluster-node-timeout 5000 ms (failovers within a few seconds).
 */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  // A port found free can be taken before redis-server binds it (the free-port search overlaps the
  // kernel's ephemeral range, where every outgoing connection of the machine picks its port):
  // such a node never answers, and a new set of ports is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= 3 || !/timed out waiting for node/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(options: { nodeTimeoutMs?: number }): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sip-edge-cluster-'));
  const procs = new Map<number, ChildProcess>();
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) {
    let port = await freeClusterPort();
    while (ports.includes(port)) port = await freeClusterPort();
    ports.push(port);
  }
  const cli = async (port: number, ...args: string[]): Promise<string> => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })).stdout;
  const stopAll = async (): Promise<void> => {
    await Promise.all(
      [...procs.values()].map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGCONT');
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const proc = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
          '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 5000), '--loglevel', 'notice', '--logfile', join(dir, `redis-${port}.log`),
          // replicas sync at once (a replica that never synced cannot take over)
          '--repl-diskless-sync-delay', '0',
        ],
        { stdio: 'ignore' },
      );
      proc.on('error', () => undefined);
      procs.set(port, proc);
    }
    for (const port of ports) await waitFor(async () => (await cli(port, 'PING').catch(() => '')).includes('PONG'), 10_000, `node ${port} up`);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const cluster: RedisCluster = {
    nodes: ports.map((port) => ({ port, address: `127.0.0.1:${port}` })),
    url: `redis://127.0.0.1:${ports[0]}`,
    seeds: ports.map((p) => `127.0.0.1:${p}`),
    cli,
    async masters() {
      for (const port of ports) {
        const p = procs.get(port);
        if (!p || p.exitCode !== null || p.signalCode !== null) continue;
        const text = await cli(port, 'CLUSTER', 'NODES').catch(() => '');
        if (!text) continue;
        return text
          .split('\n')
          .map((line) => line.split(' '))
          .filter((f) => {
            const flags = f[2]?.split(',') ?? [];
            return flags.includes('master') && !flags.includes('fail') && !flags.includes('fail?') && f.length > 8;
          })
          .map((f) => Number(f[1]!.split('@')[0]!.split(':').pop()));
      }
      return [];
    },
    kill(port) {
      procs.get(port)?.kill('SIGKILL');
    },
    pause(port) {
      procs.get(port)?.kill('SIGSTOP');
    },
    resume(port) {
      procs.get(port)?.kill('SIGCONT');
    },
    async waitHealthy(timeoutMs) {
      await waitFor(
        async () => {
          for (const port of ports) {
            const p = procs.get(port);
            if (!p || p.exitCode !== null || p.signalCode !== null) continue;
            const info = await cli(port, 'CLUSTER', 'INFO').catch(() => '');
            if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
            const replication = await cli(port, 'INFO', 'replication').catch(() => '');
            if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
          }
          return true;
        },
        timeoutMs,
        'cluster healthy',
      );
    },
    async waitReplicated(timeoutMs) {
      const masters = await cluster.masters();
      await waitFor(
        async () => {
          for (const port of masters) {
            const info = await cli(port, 'INFO', 'replication').catch(() => '');
            const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? NaN);
            const replicas = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => Number(m[1]));
            if (!Number.isFinite(offset) || replicas.length === 0 || replicas.some((r) => r < offset)) return false;
          }
          return true;
        },
        timeoutMs,
        'replicas in sync',
      );
    },
    stop: stopAll,
  };
  try {
    await cluster.waitHealthy(30_000);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return cluster;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
