import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp, type App } from '../../../../src/app.js';
import { parseConfig } from '../../../../src/config/load.js';
import type { Config } from '../../../../src/config/schema.js';
import { createLogger } from '../../../../src/observability/logger.js';
import { startDrachtio, type DrachtioServer } from '../../../helpers/drachtioServer.js';
import { testPrefix } from '../../../helpers/fixtures.js';
import type { z } from 'zod';
import type { trunkSchema, TrunkRecord, PhoneNumberRecord } from '../../../../src/domain/model.js';
import { agent, phoneNumber, trunk } from '../../../helpers/fixtures.js';
import { freshNumber, freshSource, World } from '../../support/world.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Every log line the edge wrote, and everything written to the process's stderr/stdout meanwhile. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly console: string[] = [];
  private restore: (() => void) | null = null;

  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
      done();
    },
  });

  /** Also records what libraries print with console.error/console.log (drachtio-srf does). */
  captureConsole(): void {
    const { error, log, warn } = console;
    const keep = (...args: unknown[]) => this.console.push(args.map(String).join(' '));
    console.error = keep;
    console.log = keep;
    console.warn = keep;
    this.restore = () => Object.assign(console, { error, log, warn });
  }

  releaseConsole(): void {
    this.restore?.();
    this.restore = null;
  }

  /** Every byte logged: the edge's lines and the console's. */
  all(): string {
    return [...this.lines, ...this.console].join('\n');
  }
}

export interface HostileEdge {
  readonly drachtio: DrachtioServer;
  readonly app: App;
  readonly config: Config;
  readonly world: World;
  readonly log: LogCapture;
  readonly adminUrl: string;
  readonly target: { host: string; port: number };
  /**
   * A trunk for `cidr` (a fresh /32 by default), an agent and a number routed to it, usable in
   * beforeAll (World's helpers poll with expect, which only works inside a test).
   */
  route(options?: { cidr?: string; trunk?: Partial<z.input<typeof trunkSchema>> }): Promise<{ source: string; trunk: TrunkRecord; number: PhoneNumberRecord }>;
  /** One value of /metrics (summed over the label sets that include `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number | null>;
}

/**
 * A drachtio-server and the real edge in this process, logging at info into a capture (the
 * tests read what was logged), for the enclosing describe block.
 */
export function useHostileEdge(overrides: DeepPartial<Config> = {}): HostileEdge {
  const state: { drachtio?: DrachtioServer; app?: App; config?: Config; world?: World; adminUrl?: string } = {};
  const log = new LogCapture();
  beforeAll(async () => {
    state.drachtio = await startDrachtio();
    const token = randomBytes(16).toString('hex');
    const config = parseConfig({
      ...overrides,
      log_level: 'info',
      instance_id: 'e2e-hostile',
      redis: { url: inject('redisUrl'), key_prefix: testPrefix(), ...overrides.redis },
      drachtio: { host: state.drachtio.host, port: state.drachtio.adminPort, secret: state.drachtio.secret, reconnect_max_ms: 500 },
      admin: { host: '127.0.0.1', port: 0, token },
      sip: { ring_timeout_s: 3, ...overrides.sip },
    });
    state.config = config;
    state.app = createApp({ config, logger: createLogger(config.log_level, log.stream) });
    await state.app.start();
    const address = state.app.admin.server.address();
    if (!address || typeof address === 'string') throw new Error('admin API did not bind');
    state.adminUrl = `http://127.0.0.1:${address.port}`;
    const deadline = Date.now() + 10_000;
    while (state.app.drachtio.state !== 'connected') {
      if (Date.now() > deadline) throw new Error(`edge did not connect to drachtio: ${state.app.drachtio.why}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    state.world = new World({ app: state.app } as never);
  });
  afterAll(async () => {
    log.releaseConsole();
    await state.app?.stop();
    await state.drachtio?.stop();
  });
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`hostile edge not started (${what})`);
    return value;
  };
  return {
    get drachtio() {
      return need(state.drachtio, 'drachtio');
    },
    get app() {
      return need(state.app, 'app');
    },
    get config() {
      return need(state.config, 'config');
    },
    get world() {
      return need(state.world, 'world');
    },
    get adminUrl() {
      return need(state.adminUrl, 'adminUrl');
    },
    get target() {
      return { host: '127.0.0.1', port: need(state.drachtio, 'drachtio').sipPort };
    },
    log,
    async route(options = {}) {
      const app = need(state.app, 'app');
      const source = options.cidr ? options.cidr.split('/')[0]! : freshSource();
      const t = await app.catalog.createTrunk(trunk({ ...options.trunk, inbound: { allowed_cidrs: [options.cidr ?? `${source}/32`], ...options.trunk?.inbound } }));
      const a = await app.catalog.createAgent(agent({ sip_uri: 'sip:agent@127.0.0.1:9' }));
      const n = await app.catalog.createNumber(phoneNumber({ phone_number: freshNumber(), inbound_routing: { agent_id: a.id } }));
      const deadline = Date.now() + 3000;
      while (app.store.trunks().byId.get(t.id)?.updated_at !== t.updated_at) {
        if (Date.now() > deadline) throw new Error(`trunk ${t.id} did not reach the edge's trunk table`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { source, trunk: t, number: n };
    },
    async metric(name, labels = {}) {
      const text = await need(state.app, 'app').metrics.registry.metrics();
      let sum: number | null = null;
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
        sum = (sum ?? 0) + Number(m[4]);
      }
      return sum;
    },
  };
}
