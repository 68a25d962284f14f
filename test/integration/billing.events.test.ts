import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { tailBilling } from '../../src/billing/consumer.js';
import { billingEventSchema, type BillingEvent } from '../../src/billing/events.js';
import { redisKeys } from '../../src/stores/keys.js';
import { testPrefix } from '../helpers/fixtures.js';
import { billingConfig, Cleanup, Clock, counter, ofCall, session, streamEvents } from './billing.support.js';

const url = inject('redisUrl');
const execFileAsync = promisify(execFile);
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function setup(billing: Record<string, unknown> = {}) {
  const config = billingConfig(url, testPrefix(), billing);
  const edge = cleanup.edge(config, 'edge-1');
  return { config, edge, clock: new Clock(1_700_000_000_000) };
}

const summary = (events: readonly BillingEvent[]) =>
  events.map((e) => `${e.type}${'billable_s' in e && e.type !== 'call.rejected' ? `:${e.billable_s}` : ''}`);

describe('billing events in the Redis stream', () => {
  it('an answered 3 s call on a managed number: started, answered 60, ended 60', async () => {
    const { config, edge, clock } = setup();
    const call = session(edge, clock);
    clock.advance(1500);
    call.answered();
    clock.advance(3000);
    call.end('caller_hangup');
    expect(await edge.billing.flush(5000)).toBe(true);

    const events = await streamEvents(await cleanup.redis(url), config);
    expect(summary(events)).toEqual(['call.started', 'call.answered:60', 'call.ended:60']);
    expect(events.every((e) => e.call_id === call.info.callId)).toBe(true);
    expect(events[2]).toMatchObject({
      status: 'answered',
      started_at: clock.t - 4500,
      answered_at: clock.t - 3000,
      ended_at: clock.t,
      duration_ms: 3000,
      end_cause: 'caller_hangup',
      plan: { id: 'first_minute_60/1', rule: 'first_minute', minimum_s: 60, increment_s: 1 },
      workspace_id: 'ws_1',
      trunk_id: 'trk_1',
      number_id: 'num_1',
      agent_id: 'agt_1',
      telephony: 'managed',
      instance_id: 'edge-1',
    });
    expect(await counter(edge.metrics.billingEvents, { result: 'appended' })).toBe(3);
  });

  it('the same call on a BYOC trunk is billed 3 s', async () => {
    const { config, edge, clock } = setup();
    const call = session(edge, clock, { trunkKind: 'byoc', telephony: 'byoc' });
    call.answered();
    clock.advance(3000);
    call.end('callee_hangup');
    await edge.billing.flush(5000);
    const events = await streamEvents(await cleanup.redis(url), config);
    expect(summary(events)).toEqual(['call.started', 'call.answered:1', 'call.ended:3']);
    expect(events[2]).toMatchObject({ plan: { id: 'actual_1/1' }, duration_ms: 3000 });
  });

  it('a long call on a 60/6 plan and a browser test call on a managed number', async () => {
    const { config, edge, clock } = setup({ plans: { managed: '60/6' } });
    const long = session(edge, clock);
    const test = session(edge, clock, { browserTest: true });
    long.answered();
    test.answered();
    clock.advance(61_000);
    long.end('caller_hangup');
    test.end('caller_hangup');
    await edge.billing.flush(5000);
    const events = await streamEvents(await cleanup.redis(url), config);
    expect(summary(ofCall(events, long.info.callId))).toEqual(['call.started', 'call.answered:60', 'call.ended:66']);
    expect(summary(ofCall(events, test.info.callId))).toEqual(['call.started', 'call.answered:1', 'call.ended:61']);
  });

  it('an unanswered call: started, ended with no charge, no answered', async () => {
    const { config, edge, clock } = setup();
    const call = session(edge, clock);
    call.ringing();
    clock.advance(20_000);
    call.end('failed', 480);
    const cancelled = session(edge, clock);
    clock.advance(2000);
    cancelled.end('cancelled', 487);
    await edge.billing.flush(5000);
    const events = await streamEvents(await cleanup.redis(url), config);
    expect(summary(ofCall(events, call.info.callId))).toEqual(['call.started', 'call.ended:0']);
    expect(ofCall(events, call.info.callId)[1]).toMatchObject({ status: 'unanswered', sip_status: 480, answered_at: null, duration_ms: 0, end_cause: 'failed' });
    expect(summary(ofCall(events, cancelled.info.callId))).toEqual(['call.started', 'call.ended:0']);
    expect(ofCall(events, cancelled.info.callId)[1]).toMatchObject({ status: 'unanswered', end_cause: 'cancelled', sip_status: 487 });
  });

  it('a rejected attempt: call.rejected only; unattributed ones (no trunk) are not emitted by default', async () => {
    const { config, edge } = setup();
    const at = Date.now();
    edge.lifecycle.rejected({ callId: 'r1@c', direction: 'inbound', reason: 'number_unknown', status: 404, trunkId: 'trk_1', workspaceId: null, from: 'a', to: 'b', at });
    edge.lifecycle.rejected({ callId: 'r2@c', direction: 'inbound', reason: 'source_not_allowed', status: null, trunkId: null, workspaceId: null, from: 'a', to: 'b', at });
    await edge.billing.flush(5000);
    const events = await streamEvents(await cleanup.redis(url), config);
    expect(events).toEqual([
      expect.objectContaining({ type: 'call.rejected', call_id: 'r1@c', status: 'rejected', reason: 'number_unknown', sip_status: 404, billable_s: 0 }),
    ]);
  });

  it('the consumer reads with a group, pending entries first, and acknowledges', async () => {
    const { config, edge, clock } = setup();
    const redis = await cleanup.redis(url);
    const stream = redisKeys(config.redis.key_prefix).billingShards(config.billing.stream, 1)[0]!.stream;
    const call = session(edge, clock);
    call.answered();
    clock.advance(1000);
    call.end('caller_hangup');
    await edge.billing.flush(5000);

    const seen: string[] = [];
    const options = { group: 'billing', consumer: 'c1', fromStart: true, blockMs: 100, count: 2, once: true };
    // A consumer that dies after reading, before acknowledging: its entries stay pending.
    await redis.xgroup('CREATE', stream, 'billing', '0', 'MKSTREAM');
    await redis.xreadgroup('GROUP', 'billing', 'c1', 'COUNT', 1, 'STREAMS', stream, '>');
    const handled = await tailBilling(redis, [stream], options, { event: (e) => seen.push(e.type), invalid: (id) => seen.push(`invalid ${id}`) });
    expect(handled).toBe(3);
    expect(seen).toEqual(['call.started', 'call.answered', 'call.ended']);
    const pending = (await redis.xpending(stream, 'billing')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    // Nothing new: a second run reads nothing.
    expect(await tailBilling(redis, [stream], options, { event: (e) => seen.push(e.type), invalid: () => undefined })).toBe(0);
  });

  it('never calls Redis from the listener: events queue while the sink is busy and keep their order', async () => {
    const { config, edge, clock } = setup();
    const calls = Array.from({ length: 50 }, () => session(edge, clock));
    calls.forEach((c) => c.answered());
    clock.advance(2000);
    calls.forEach((c) => c.end('caller_hangup'));
    expect(edge.billing.backlog).toBeGreaterThan(0); // all of it is still queued: nothing awaited Redis
    await edge.billing.flush(5000);
    const events = await streamEvents(await cleanup.redis(url), config);
    expect(events).toHaveLength(150);
    for (const c of calls) expect(summary(ofCall(events, c.info.callId))).toEqual(['call.started', 'call.answered:60', 'call.ended:60']);
  });
});

describe('npm run billing:tail', () => {
  it('prints each event as one JSON line and acknowledges it', async () => {
    const { config, edge, clock } = setup();
    const call = session(edge, clock);
    call.answered();
    clock.advance(3000);
    call.end('caller_hangup');
    await edge.billing.flush(5000);
    const configFile = join(cleanup.tempDir(), 'sip-edge.yaml');
    writeFileSync(configFile, 'log_level: silent\n');
    const run = () =>
      execFileAsync(process.execPath, ['--import', 'tsx', 'src/tools/billingTail.ts', '--group', 'team', '--consumer', 'c1', '--from-start', '--once', '--block', '200'], {
        env: { ...process.env, SIP_EDGE_CONFIG: configFile, REDIS_URL: url, REDIS_MODE: config.redis.mode, REDIS_NODES: config.redis.nodes.join(','), REDIS_KEY_PREFIX: config.redis.key_prefix, ADMIN_TOKEN: 'x'.repeat(16) },
        timeout: 20_000,
      });
    const first = await run();
    const lines = first.stdout.trim().split('\n');
    expect(lines.map((l) => billingEventSchema.parse(JSON.parse(l)).type)).toEqual(['call.started', 'call.answered', 'call.ended']);
    expect(JSON.parse(lines[2]!)).toMatchObject({ call_id: call.info.callId, billable_s: 60 });
    // Acknowledged: the same group reads nothing the second time.
    expect((await run()).stdout).toBe('');
  });
});
