/**
 * Starting the parts of a run, each registered for cleanup: redis-server, drachtio-server and the
 * SIPp agent come from the test harness launchers (test/helpers); the edge and the bare B2BUA from sut.ts.
 */
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { startDrachtio, type DrachtioServer } from '../../test/helpers/drachtioServer.js';
import { startRedisServer, type RedisServer } from '../../test/helpers/redisServer.js';
import { onCleanup } from './cleanup.js';
import { startLoadUas, type LoadUas } from './sippLoad.js';

export interface LocalRedis extends RedisServer {
  readonly pid: number | null;
}

export async function startLocalRedis(): Promise<LocalRedis> {
  const server = await startRedisServer();
  onCleanup('redis-server', () => server.stop());
  const client = new Redis(server.url, { lazyConnect: true });
  await client.connect();
  const info = await client.info('server');
  client.disconnect();
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]) || null;
  return Object.assign(server, { pid });
}

/** drachtio-server with the harness config (loglevel notice), stopped at cleanup. */
export async function startLocalDrachtio(): Promise<DrachtioServer> {
  const drachtio = await startDrachtio({ loglevel: 'notice' });
  onCleanup('drachtio-server', () => drachtio.dispose());
  return drachtio;
}

export async function startAgent(ip: string, dir: string, port?: number): Promise<LoadUas> {
  const uas = await startLoadUas({ ip, dir: join(dir, 'sipp-agent'), ...(port ? { port } : {}) });
  onCleanup('sipp agent', () => uas.stop());
  return uas;
}

/** Waits (bounded) until the SIPp agent has no call open: the previous step is over. */
export async function settle(uas: LoadUas, timeoutMs = 40_000, activeCalls?: () => Promise<number | null>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  await new Promise((r) => setTimeout(r, 1_500));
  while (Date.now() < deadline) {
    const open = uas.currentCalls();
    const edgeOpen = activeCalls ? await activeCalls() : 0;
    if ((open === null || open === 0) && (edgeOpen === null || edgeOpen === 0)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Calls of each Redis command so far (INFO commandstats), e.g. { get: 1200, evalsha: 800 }. */
export async function redisCommandCounts(url: string): Promise<Record<string, number>> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    const info = await client.info('commandstats');
    const counts: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) counts[m[1]!] = Number(m[2]);
    return counts;
  } finally {
    client.disconnect();
  }
}

/** Per-command difference of two commandstats snapshots divided by `calls`, largest first. */
export function commandsPerCall(before: Record<string, number>, after: Record<string, number>, calls: number): [string, number][] {
  return Object.entries(after)
    .map(([cmd, n]): [string, number] => [cmd, (n - (before[cmd] ?? 0)) / Math.max(1, calls)])
    .filter(([, v]) => v > 0.005)
    .sort((a, b) => b[1] - a[1]);
}
