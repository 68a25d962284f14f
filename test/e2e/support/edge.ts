import { randomBytes } from 'node:crypto';
import { createApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { DrachtioServer } from '../../helpers/drachtioServer.js';
import { testPrefix } from '../../helpers/fixtures.js';

export interface RunningEdge {
  readonly app: App;
  readonly config: Config;
  readonly adminUrl: string;
  readonly token: string;
  /** fetch against the admin API with the bearer token */
  api(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The real edge, in this process, against a real drachtio-server and Redis, admin API on port 0. */
export async function startEdge(drachtio: DrachtioServer, redisUrl: string, overrides: DeepPartial<Config> = {}): Promise<RunningEdge> {
  const token = randomBytes(16).toString('hex');
  const config = parseConfig({
    ...overrides,
    log_level: process.env.E2E_LOG_LEVEL ?? 'silent',
    instance_id: 'e2e',
    redis: { url: redisUrl, key_prefix: testPrefix(), ...overrides.redis },
    drachtio: { host: drachtio.host, port: drachtio.adminPort, secret: drachtio.secret, reconnect_max_ms: 500, ...overrides.drachtio },
    admin: { host: '127.0.0.1', port: 0, token },
    sip: { ring_timeout_s: 3, ...overrides.sip },
  });
  const app = createApp({ config, logger: createLogger(config.log_level) });
  await app.start();
  const address = app.admin.server.address();
  if (!address || typeof address === 'string') throw new Error('admin API did not bind');
  const adminUrl = `http://127.0.0.1:${address.port}`;
  const deadline = Date.now() + 10_000;
  while (app.drachtio.state !== 'connected') {
    if (Date.now() > deadline) throw new Error(`edge did not connect to drachtio: ${app.drachtio.why}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    app,
    config,
    adminUrl,
    token,
    async api(path, init = {}) {
      const res = await fetch(`${adminUrl}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    stop: () => app.stop(),
  };
}
