import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBilling, type Billing } from '../../src/billing/index.js';
import { billingEventSchema, type BillingEvent } from '../../src/billing/events.js';
import { CallLifecycle, type CallInfo } from '../../src/calls/lifecycle.js';
import { CallSession } from '../../src/calls/session.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady, type RedisClient } from '../../src/stores/redis.js';
import { redisSection } from '../helpers/testRedis.js';

export const logger = createLogger((process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent');

export function billingConfig(url: string, prefix: string, billing: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    admin: { token: 'x'.repeat(16) },
    redis: redisSection(url, { key_prefix: prefix, command_timeout_ms: 500 }),
    billing: { heartbeat_interval_s: 1, liveness_ttl_s: 2, retry_min_ms: 20, retry_max_ms: 200, stop_flush_timeout_ms: 2000, ...billing },
  });
}

export interface Edge {
  readonly billing: Billing;
  readonly lifecycle: CallLifecycle;
  readonly metrics: Metrics;
  readonly spoolDir: string;
}

/** Things made by a test, closed/removed after it. */
export class Cleanup {
  private readonly edges: Edge[] = [];
  private readonly clients: RedisClient[] = [];
  private readonly dirs: string[] = [];

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sip-edge-billing-'));
    this.dirs.push(dir);
    return dir;
  }

  /** One edge instance's billing, with its own spool dir unless given. */
  edge(config: Config, instanceId: string, spoolDir = this.tempDir(), now?: () => number): Edge {
    const metrics = createMetrics();
    const billing = createBilling({ config: { ...config, billing: { ...config.billing, spool_dir: spoolDir } }, metrics, logger, instanceId, now });
    const lifecycle = new CallLifecycle((err) => {
      throw err;
    });
    lifecycle.attach(billing.listener);
    const edge = { billing, lifecycle, metrics, spoolDir };
    this.edges.push(edge);
    return edge;
  }

  async redis(url: string): Promise<RedisClient> {
    const client = createRedis(billingConfig(url, 'x:').redis, 'test');
    client.on('error', () => undefined);
    await whenReady(client, 5000);
    this.clients.push(client);
    return client;
  }

  /** A client of a config's Redis (its mode, nodes and prefix). */
  async client(config: Config): Promise<RedisClient> {
    const client = createRedis(config.redis, 'test');
    client.on('error', () => undefined);
    await whenReady(client, 5000);
    this.clients.push(client);
    return client;
  }

  async run(): Promise<void> {
    await Promise.all(this.edges.splice(0).map((e) => e.billing.stop().catch(() => undefined)));
    this.clients.splice(0).forEach((c) => c.disconnect());
    this.dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  }
}

/** A manual clock for CallSession. */
export class Clock {
  constructor(public t: number) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function callInfo(overrides: Partial<CallInfo> = {}): CallInfo {
  return {
    callId: `call-${Math.random().toString(36).slice(2, 10)}@carrier`,
    direction: 'inbound',
    workspaceId: 'ws_1',
    trunkId: 'trk_1',
    trunkKind: 'managed',
    numberId: 'num_1',
    telephony: 'managed',
    agentId: 'agt_1',
    from: '+15550000001',
    to: '+15550001001',
    browserTest: false,
    startedAt: Date.now(),
    ...overrides,
  };
}

/** Starts a call session at clock time. */
export function session(edge: Edge, clock: Clock, overrides: Partial<CallInfo> = {}): CallSession {
  return new CallSession(callInfo({ startedAt: clock.t, ...overrides }), edge.lifecycle, clock.now);
}

/** Every event in the stream, in stream order, validated against the schema. */
export async function streamEvents(redis: RedisClient, config: Config): Promise<BillingEvent[]> {
  const shards = redisKeys(config.redis.key_prefix).billingShards(config.billing.stream, config.billing.stream_shards);
  const entries: [string, string[]][] = [];
  for (const shard of shards) entries.push(...((await redis.xrange(shard.stream, '-', '+')) as [string, string[]][]));
  // Shards have no order between them: sort by the stream ids' time (each shard's ids grow).
  entries.sort(([a], [b]) => compareStreamIds(a, b));
  return entries.map(([, fields]) => {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
    const event = billingEventSchema.parse(JSON.parse(map.get('event')!));
    if (map.get('type') !== event.type || map.get('idempotency_key') !== event.idempotency_key) throw new Error('stream fields disagree with the event');
    return event;
  });
}

function compareStreamIds(a: string, b: string): number {
  const [ams, aseq] = a.split('-').map(Number);
  const [bms, bseq] = b.split('-').map(Number);
  return ams! - bms! || aseq! - bseq!;
}

export function ofCall(events: readonly BillingEvent[], callId: string): BillingEvent[] {
  return events.filter((e) => e.call_id === callId);
}

export async function counter(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}
