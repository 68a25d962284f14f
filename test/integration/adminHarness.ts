import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer, type AdminPlugin, type Readiness } from '../../src/admin/server.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { Catalog } from '../../src/stores/catalog.js';
import { redisKeys, type RedisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { redisSection, scanAll } from '../helpers/testRedis.js';

export const TOKEN = 'admin-token-for-tests-0123456789';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text. */
  readonly body: any;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Sent as is (no JSON encoding) when given as a string with a contentType. */
  readonly contentType?: string;
  /** null = no Authorization header */
  readonly token?: string | null;
  readonly authorization?: string;
}

export interface AdminHarness {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly catalog: Catalog;
  /** What /readyz reports next; a test sets it. */
  readiness: Readiness | Error;
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly redisUrl: string;
  readonly admin?: Partial<Config['admin']>;
  /** Plugins, or a function making them from the harness's own catalog, Redis and keys. */
  readonly plugins?: AdminPlugin[] | ((ctx: { catalog: Catalog; redis: RedisClient; keys: RedisKeys }) => AdminPlugin[]);
  readonly publicPaths?: readonly string[];
}

/** The real admin server on a free loopback port over a fresh key prefix of the shared test Redis. */
export async function startAdmin(options: HarnessOptions): Promise<AdminHarness> {
  const config = configSchema.parse({ admin: { token: TOKEN, ...options.admin }, redis: redisSection(options.redisUrl, { command_timeout_ms: 2000 }) });
  const redis = createRedis(config.redis, 'test-admin');
  await whenReady(redis, 5000);
  const keys = redisKeys(`test:${randomUUID()}:`);
  const catalog = new Catalog(redis, keys);
  const harness = {
    readiness: { ready: true, checks: {} } as Readiness | Error,
  };
  const app = createAdminServer({
    config: config.admin,
    catalog,
    metrics: createMetrics(),
    logger: createLogger(process.env.ADMIN_TEST_LOG ?? 'silent'),
    health: {
      live: () => true,
      ready: async () => {
        if (harness.readiness instanceof Error) throw harness.readiness;
        return harness.readiness;
      },
    },
    ...(options.plugins ? { plugins: typeof options.plugins === 'function' ? options.plugins({ catalog, redis, keys }) : options.plugins } : {}),
    ...(options.publicPaths ? { publicPaths: options.publicPaths } : {}),
  });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? TOKEN : opts.token;
    if (opts.authorization !== undefined) headers.authorization = opts.authorization;
    else if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' && opts.contentType ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').includes('json') && text.length > 0;
    return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text };
  };

  return Object.assign(harness, {
    base,
    app,
    redis,
    keys,
    catalog,
    request,
    close: async () => {
      await app.close();
      redis.disconnect();
    },
  });
}

/**
 * Every key under the prefix with its type, value and TTL, in a stable order: two equal dumps mean
 * Redis holds byte-for-byte the same data under the prefix.
 */
export async function dumpPrefix(redis: RedisClient, prefix: string): Promise<Record<string, unknown>> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const found = await scanAll(redis, pattern);
  const out: Record<string, unknown> = {};
  for (const key of [...new Set(found)].sort()) {
    const type = await redis.type(key);
    const ttl = await redis.pttl(key);
    let value: unknown;
    if (type === 'string') value = await redis.get(key);
    else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'set') value = (await redis.smembers(key)).sort();
    else if (type === 'hash') value = await redis.hgetall(key);
    else if (type === 'list') value = await redis.lrange(key, 0, -1);
    else value = (await redis.dumpBuffer(key))?.toString('hex');
    out[key] = { type, ttl, value };
  }
  return out;
}
