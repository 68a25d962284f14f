import { Redis, Cluster, type ChainableCommander, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';
import { groupBySlot } from './slots.js';

export type RedisClient = Redis | Cluster;

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

/**
 * One factory for every Redis connection. Commands fail fast instead of queueing while Redis is
 * unreachable (no offline queue, a command timeout) so that a SIP transaction never hangs on Redis;
 * ioredis reconnects by itself with backoff.
 */
export function createRedis(config: Config['redis'], purpose: string): RedisClient {
  const url = new URL(config.url);
  const common: RedisOptions = {
    connectionName: `sip-edge:${purpose}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: config.command_timeout_ms,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  switch (config.mode) {
    case 'standalone':
      return new Redis(config.url, common);
    case 'sentinel': {
      const db = Number(url.pathname.replace('/', '') || 0);
      return new Redis({ ...common, sentinels: config.nodes.map(hostPort), name: config.sentinel_name, db });
    }
    case 'cluster':
      // ioredis refreshes its slot map only on MOVED or a lost connection by default: a master
      // that hangs answers neither, so after its failover the client would keep sending to it.
      // Refresh on a timer as well (each refresh asks one node, the next if it does not answer).
      return new Cluster(config.nodes.map(hostPort), {
        redisOptions: common,
        enableOfflineQueue: false,
        slotsRefreshInterval: config.health_interval_ms,
        slotsRefreshTimeout: Math.max(config.command_timeout_ms, 500),
      });
    default: {
      const never: never = config.mode;
      throw new Error(`unknown redis mode ${String(never)}`);
    }
  }
}

/** Resolves once the client is ready, rejects after timeoutMs. */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** True for a Redis Cluster client (its multi-key steps must stay within one slot). */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * GET of many keys in order, null for a missing key: MGET in chunks of 1000 on one server; on a
 * cluster one MGET per slot (MGET across slots is CROSSSLOT), all sent at once.
 */
export async function getMany(client: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  const out: (string | null)[] = new Array<string | null>(keys.length).fill(null);
  if (!isCluster(client)) {
    for (let i = 0; i < keys.length; i += 1000) {
      const values = await client.mget(keys.slice(i, i + 1000));
      values.forEach((v, j) => (out[i + j] = v));
    }
    return out;
  }
  const positions = groupBySlot(
    keys.map((_, i) => i),
    (i) => keys[i]!,
  );
  await Promise.all(
    [...positions.values()].map(async (at) => {
      const values = await client.mget(at.map((i) => keys[i]!));
      values.forEach((v, j) => (out[at[j]!] = v));
    }),
  );
  return out;
}

/** One command of a batch: the key it touches and how to add it to a pipeline. */
export interface BatchCommand {
  readonly key: string;
  add(pipeline: ChainableCommander): void;
}

/**
 * Sends many single-key commands in as few round trips as the topology allows: one pipeline on a
 * single server; on a cluster one pipeline per slot (ioredis refuses a pipeline across slots), all
 * at once. Throws the first command error.
 */
export async function runBatch(client: RedisClient, commands: readonly BatchCommand[]): Promise<void> {
  if (commands.length === 0) return;
  const groups = isCluster(client) ? [...groupBySlot(commands, (c) => c.key).values()] : [commands];
  const results = await Promise.all(
    groups.map((group) => {
      const pipeline = client.pipeline();
      for (const command of group) command.add(pipeline);
      return pipeline.exec();
    }),
  );
  for (const result of results) {
    const failed = result?.find(([err]) => err)?.[0];
    if (failed) throw failed;
  }
}
