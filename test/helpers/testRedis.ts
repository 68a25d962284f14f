import { inject } from 'vitest';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from '../../src/stores/redis.js';

/** The Redis a test run shares: standalone (project `integration`) or a cluster (`integration-cluster`). */
export interface RedisTarget {
  readonly url: string;
  readonly mode: 'standalone' | 'sentinel' | 'cluster';
  readonly nodes: readonly string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisTarget: RedisTarget;
  }
}

export function redisTarget(): RedisTarget {
  return inject('redisTarget');
}

/**
 * The `redis:` config section for a test: the shared target (cluster mode and its nodes when the
 * run is a cluster run) when `url` is the shared one, else a standalone server of the test's own.
 */
export function redisSection(url: string = redisTarget().url, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const target = redisTarget();
  const shared = url === target.url;
  return {
    url,
    mode: shared ? target.mode : 'standalone',
    nodes: shared ? [...target.nodes] : [],
    ...overrides,
  };
}

export const isClusterRun = (): boolean => redisTarget().mode === 'cluster';

/** Every key matching `pattern`: SCAN on the server, or on every master of a cluster. */
export async function scanAll(redis: RedisClient, pattern: string): Promise<string[]> {
  const servers: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis as Redis];
  const found: string[] = [];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, batch] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}
