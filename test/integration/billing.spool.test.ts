import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { callStarted } from '../../src/billing/events.js';
import type { SinkOp } from '../../src/billing/sinkOp.js';
import { testPrefix } from '../helpers/fixtures.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { billingConfig, callInfo, Cleanup, Clock, counter, session, streamEvents } from './billing.support.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('billing spool while Redis is down', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('spools events while Redis is stopped, replays them in order exactly once when it is back', async () => {
    const config = billingConfig(server.url, testPrefix());
    const edge = cleanup.edge(config, 'edge-1');
    const clock = new Clock(1_700_000_000_000);
    edge.lifecycle.rejected({ callId: 'warmup@c', direction: 'inbound', reason: 'number_unknown', status: 404, trunkId: 't', workspaceId: null, from: 'a', to: 'b', at: clock.t });
    expect(await edge.billing.flush(5000)).toBe(true);
    const spooledBefore = await counter(edge.metrics.billingSpooled);

    await server.stop();
    const during = [session(edge, clock, { trunkKind: 'byoc', telephony: 'byoc' }), session(edge, clock)];
    during.forEach((c) => c.answered());
    clock.advance(5000);
    during.forEach((c) => c.end('callee_hangup'));

    // 2 x 3 events wait on disk, counted in the metrics; none is lost.
    await expect.poll(() => counter(edge.metrics.billingSpoolEvents), { timeout: 5000 }).toBe(6);
    expect((await counter(edge.metrics.billingSpooled)) - spooledBefore).toBe(6);
    expect(await counter(edge.metrics.billingAppendFailures)).toBeGreaterThan(0);
    expect(readdirSync(edge.spoolDir).some((f) => f.endsWith('.jsonl'))).toBe(true);
    expect(edge.billing.backlog).toBe(6);

    await server.start();
    expect(await edge.billing.flush(15_000)).toBe(true);
    expect(await counter(edge.metrics.billingSpoolEvents)).toBe(0);
    expect(readdirSync(edge.spoolDir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);

    // The restarted Redis has no persistence: the stream holds exactly what was replayed.
    const events = await streamEvents(await cleanup.redis(server.url), config);
    expect(events.map((e) => `${e.call_id}|${e.type}`)).toEqual([
      `${during[0]!.info.callId}|call.started`,
      `${during[1]!.info.callId}|call.started`,
      `${during[0]!.info.callId}|call.answered`,
      `${during[1]!.info.callId}|call.answered`,
      `${during[0]!.info.callId}|call.ended`,
      `${during[1]!.info.callId}|call.ended`,
    ]);
    expect(await counter(edge.metrics.billingEvents, { result: 'appended' })).toBe(7);
  });

  it('a spool left by a dead process is replayed at start, skipping what was appended already', async () => {
    const config = billingConfig(inject('redisUrl'), testPrefix());
    const redis = await cleanup.redis(inject('redisUrl'));
    const first = cleanup.edge(config, 'edge-1');
    const infos = [callInfo(), callInfo(), callInfo()];
    const ops: SinkOp[] = infos.map((info) => ({
      mode: 'plain',
      owner: 'edge-0~dead',
      event: callStarted(info, { id: 'first_minute_60/1', rule: 'first_minute', minimum_s: 60, increment_s: 1 }, 'edge-0'),
    }));
    // The first event reached Redis before the process died (its spool line was never committed).
    first.lifecycle.started(infos[0]!);
    await first.billing.flush(5000);

    const dir = cleanup.tempDir();
    writeFileSync(join(dir, 'edge-0.4194305.deadbeef.jsonl'), ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const next = cleanup.edge(config, 'edge-0', dir);
    expect(await counter(next.metrics.billingSpoolEvents)).toBe(3);
    await next.billing.start();
    expect(await next.billing.flush(5000)).toBe(true);

    const events = await streamEvents(redis, config);
    expect(events.map((e) => e.call_id)).toEqual(infos.map((i) => i.callId));
    expect(await counter(next.metrics.billingEvents, { result: 'duplicate' })).toBe(1);
    expect(await counter(next.metrics.billingEvents, { result: 'appended' })).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});
