import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { billableSeconds } from '../../src/billing/plan.js';
import { CallSession } from '../../src/calls/session.js';
import type { Config } from '../../src/config/schema.js';
import { testPrefix } from '../helpers/fixtures.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';
import { billingConfig, callInfo, Cleanup, type Edge } from './billing.support.js';

/**
 * Redis outages with calls up on two instances (in this process, real Redis, real clocks). Runs in
 * the standalone project only (it stops its own servers). Liveness: heartbeat 2 s, TTL 8 s; an
 * outage of 30 s or 60 s is far past the TTL.
 */
const HEARTBEAT_S = 2;
const TTL_S = 8;

// The tests run at the same time: each has its own Cleanup, run when it ends.
const cleanups: Cleanup[] = [];
const servers: RedisServer[] = [];
const proxies: TcpProxy[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c.run()));
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all(servers.map((s) => s.stop()));
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface StreamEvent {
  readonly type: string;
  readonly call_id: string;
  readonly end_cause?: string;
  readonly duration_ms?: number;
  readonly billable_s: number;
  readonly plan: { minimum_s: number; increment_s: number; id: string; rule: 'first_minute' | 'actual' };
}

/** The billing events as a consumer reads them (the single stream prefix + billing:events). */
async function readEvents(url: string, prefix: string): Promise<StreamEvent[]> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    const entries = await redis.xrange(`${prefix}billing:events`, '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as StreamEvent);
  } finally {
    redis.disconnect();
  }
}

/** A call whose answer and end times the test measures itself (the real duration). */
class MeasuredCall {
  readonly session: CallSession;
  answeredAt = 0;
  endedAt = 0;
  constructor(readonly edge: Edge) {
    this.session = new CallSession(callInfo({ startedAt: Date.now() }), edge.lifecycle, Date.now);
  }
  answer(): void {
    this.answeredAt = Date.now();
    this.session.answered();
  }
  end(): void {
    this.endedAt = Date.now();
    this.session.end('caller_hangup');
  }
  get id(): string {
    return this.session.info.callId;
  }
}

/**
 * What a consumer charges per call, by the documented rule: the call.corrected's billable_s if
 * any, else the call.ended's, else the call.answered's.
 */
function charges(events: readonly StreamEvent[]): Map<string, StreamEvent> {
  const rank: Record<string, number> = { 'call.answered': 1, 'call.ended': 2, 'call.corrected': 3 };
  const out = new Map<string, StreamEvent>();
  for (const e of events) {
    const r = rank[e.type];
    if (r === undefined) continue;
    const have = out.get(e.call_id);
    if (!have || rank[have.type]! < r) out.set(e.call_id, e);
  }
  return out;
}

function expectBilledForRealDuration(events: readonly StreamEvent[], calls: readonly MeasuredCall[]): void {
  const charged = charges(events);
  for (const call of calls) {
    const ended = events.filter((e) => e.call_id === call.id && e.type === 'call.ended');
    expect(ended, `${call.id}: one call.ended`).toHaveLength(1);
    const charge = charged.get(call.id)!;
    expect(charge.type, call.id).not.toBe('call.answered');
    const real = call.endedAt - call.answeredAt;
    // The charged duration is the real one (the owner's own clock; ±1 heartbeat as the goal allows).
    expect(Math.abs(charge.duration_ms! - real), `${call.id}: charged ${charge.duration_ms} ms for ${real} ms`).toBeLessThanOrEqual(HEARTBEAT_S * 1000);
    expect(charge.billable_s).toBeGreaterThanOrEqual(billableSeconds(real - HEARTBEAT_S * 1000, charge.plan));
  }
}

function config(url: string, prefix: string): Config {
  return billingConfig(url, prefix, { heartbeat_interval_s: HEARTBEAT_S, liveness_ttl_s: TTL_S, retry_max_ms: 500 });
}

describe('billing through Redis outages, two instances with calls up', () => {
  it.concurrent.each([30, 60])(
    'Redis unreachable for %i s (server stopped, connections reset): no instance closes the other\'s calls, every call is billed for its real duration',
    async (outageS) => {
      const cleanup = new Cleanup();
      cleanups.push(cleanup);
      const server = await startRedisServer();
      servers.push(server);
      // Each instance reaches Redis through its own link: the outage both hangs the server and
      // breaks the links, so no command sent during it runs late when Redis is back.
      const links = await Promise.all([startTcpProxy(server.port), startTcpProxy(server.port)]);
      proxies.push(...links);
      const prefix = testPrefix();
      const a = cleanup.edge(config(`redis://127.0.0.1:${links[0].port}/0`, prefix), `edge-a-${outageS}`);
      const b = cleanup.edge(config(`redis://127.0.0.1:${links[1].port}/0`, prefix), `edge-b-${outageS}`);
      await Promise.all([a.billing.start(), b.billing.start()]);
      const calls = [a, a, a, b, b, b].map((edge) => new MeasuredCall(edge));
      calls.forEach((call) => call.answer());
      await Promise.all([a.billing.flush(5000), b.billing.flush(5000)]);
      // Both beat for longer than the TTL first: each is fenced (free to close dead peers) before the outage.
      await sleep((TTL_S + HEARTBEAT_S) * 1000);

      server.pause();
      links.forEach((l) => l.cut());
      await sleep((outageS * 1000) / 2);
      calls[0]!.end(); // ends during the outage: spooled, appended later
      calls[3]!.end();
      await sleep((outageS * 1000) / 2);
      server.resume();
      // a finds Redis again first; b a few seconds later (its reconnect backoff, a slower
      // failover discovery): well within the TTL, but a gives no grace if it reads "b is silent"
      // as "b is dead".
      links[0].heal();
      await sleep(HEARTBEAT_S * 1500);
      links[1].heal();

      // Past the TTL and a few heartbeats after Redis is back: a peer that took the outage for a
      // death would have closed the other's calls by now.
      await sleep((TTL_S + 3 * HEARTBEAT_S) * 1000);
      calls.slice(1, 3).concat(calls.slice(4)).forEach((call) => call.end());
      expect(await a.billing.flush(10_000)).toBe(true);
      expect(await b.billing.flush(10_000)).toBe(true);

      const events = await readEvents(server.url, prefix);
      expect(events.filter((e) => e.end_cause === 'edge_restart')).toEqual([]);
      expectBilledForRealDuration(events, calls);
    },
    180_000,
  );

  it.concurrent(
    'one instance cut off alone for 30 s: its peer closes its calls, and its real ends correct them (call.corrected)',
    async () => {
      const cleanup = new Cleanup();
      cleanups.push(cleanup);
      const server = await startRedisServer();
      servers.push(server);
      const proxy = await startTcpProxy(server.port);
      proxies.push(proxy);
      const prefix = testPrefix();
      const a = cleanup.edge(config(`redis://127.0.0.1:${proxy.port}/0`, prefix), 'edge-a-cut');
      const b = cleanup.edge(config(server.url, prefix), 'edge-b-cut');
      await Promise.all([a.billing.start(), b.billing.start()]);
      const calls = [a, a, a, b].map((edge) => new MeasuredCall(edge));
      calls.forEach((call) => call.answer());
      await Promise.all([a.billing.flush(5000), b.billing.flush(5000)]);

      proxy.cut();
      await sleep(15_000);
      calls[0]!.end(); // ends while cut off: spooled
      await sleep(15_000);
      proxy.heal();
      await sleep(4 * HEARTBEAT_S * 1000);
      calls.slice(1).forEach((call) => call.end());
      expect(await a.billing.flush(15_000)).toBe(true);
      expect(await b.billing.flush(10_000)).toBe(true);

      const events = await readEvents(server.url, prefix);
      // b did close a's calls (a was gone from Redis for far longer than the TTL)...
      const closedByPeer = events.filter((e) => e.end_cause === 'edge_restart').map((e) => e.call_id);
      expect(new Set(closedByPeer)).toEqual(new Set(calls.slice(0, 3).map((call) => call.id)));
      // ...short of their real duration, which a's call.corrected states.
      expect(events.filter((e) => e.type === 'call.corrected').map((e) => e.call_id).sort()).toEqual(closedByPeer.sort());
      expectBilledForRealDuration(events, calls);
      expect(await (a.metrics as unknown as { billingTakenForDead: { get(): Promise<{ values: { value: number }[] }> } }).billingTakenForDead.get()).toMatchObject({
        values: [{ value: 1 }],
      });
    },
    180_000,
  );
});
