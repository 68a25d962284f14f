import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';

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
      return new Cluster(config.nodes.map(hostPort), { redisOptions: common, enableOfflineQueue: false });
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
