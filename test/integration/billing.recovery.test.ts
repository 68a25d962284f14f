import { afterEach, describe, expect, inject, it } from 'vitest';
import type { CallEndedEvent } from '../../src/billing/events.js';
import type { Config } from '../../src/config/schema.js';
import { redisKeys } from '../../src/stores/keys.js';
import type { RedisClient } from '../../src/stores/redis.js';
import { testPrefix } from '../helpers/fixtures.js';
import { billingConfig, Cleanup, Clock, counter, ofCall, session, streamEvents, type Edge } from './billing.support.js';

const url = inject('redisUrl');
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const T0 = 1_700_000_000_000;

/**
 * An instance that answered calls and then died: its events are in Redis, its open-call records
 * stay, its last heartbeat is at `lastBeat`, and (unless `alive`) its liveness key has expired.
 */
async function deadInstance(config: Config, redis: RedisClient, instanceId: string, calls: number, lastBeat: number, alive = false) {
  const edge = cleanup.edge(config, instanceId);
  const clock = new Clock(T0);
  const sessions = Array.from({ length: calls }, () => session(edge, clock));
  clock.advance(1000);
  sessions.forEach((s) => s.answered());
  await edge.billing.flush(5000);
  const keys = redisKeys(config.redis.key_prefix);
  await redis.hset(keys.billingHeartbeats, edge.billing.owner, String(lastBeat));
  if (alive) await redis.set(keys.billingAlive(edge.billing.owner), '1', 'PX', 60_000);
  else await redis.del(keys.billingAlive(edge.billing.owner));
  return { edge, sessions, clock, answeredAt: T0 + 1000 };
}

function endedOf(events: readonly { type: string }[]): CallEndedEvent[] {
  return events.filter((e): e is CallEndedEvent => e.type === 'call.ended');
}

describe('restart recovery of answered calls', () => {
  it('a peer closes the calls of a dead instance once, with the duration up to its last heartbeat', async () => {
    const config = billingConfig(url, testPrefix());
    const redis = await cleanup.redis(url);
    const dead = await deadInstance(config, redis, 'edge-a', 3, T0 + 1000 + 90_500);

    const b = cleanup.edge(config, 'edge-b');
    await b.billing.start();
    await b.billing.flush(5000);

    const events = await streamEvents(redis, config);
    const ended = endedOf(events);
    expect(ended).toHaveLength(3);
    for (const s of dead.sessions) {
      expect(ofCall(events, s.info.callId).map((e) => e.type)).toEqual(['call.started', 'call.answered', 'call.ended']);
    }
    for (const e of ended) {
      expect(e).toMatchObject({ end_cause: 'edge_restart', status: 'answered', duration_ms: 90_500, billable_s: 91, instance_id: 'edge-a', recovered_by: 'edge-b' });
    }
    expect(await counter(b.metrics.billingRecoveredCalls)).toBe(3);
    // The dead owner is forgotten once it holds no open call.
    const keys = redisKeys(config.redis.key_prefix);
    expect(await redis.hexists(keys.billingHeartbeats, dead.edge.billing.owner)).toBe(0);
    expect(await redis.exists(keys.billingOpen(dead.edge.billing.owner))).toBe(0);
  });

  it('two instances recovering at the same time still close each call once', async () => {
    const config = billingConfig(url, testPrefix());
    const redis = await cleanup.redis(url);
    const dead = await deadInstance(config, redis, 'edge-a', 20, T0 + 5000);
    const peers: Edge[] = [cleanup.edge(config, 'edge-b'), cleanup.edge(config, 'edge-c')];
    const closed = await Promise.all(peers.map((p) => p.billing.recover()));
    // Both run again: nothing is left to close.
    closed.push(...(await Promise.all(peers.map((p) => p.billing.recover()))));
    expect(closed.reduce((a, b) => a + b, 0)).toBe(20);

    const ended = endedOf(await streamEvents(redis, config));
    expect(ended).toHaveLength(20);
    expect(new Set(ended.map((e) => e.call_id)).size).toBe(20);
    expect(new Set(ended.map((e) => e.call_id))).toEqual(new Set(dead.sessions.map((s) => s.info.callId)));
    expect(ended.every((e) => e.end_cause === 'edge_restart' && e.duration_ms === 4000 && e.billable_s === 60)).toBe(true);
  });

  it('a restart with the same instance id closes its earlier calls at once, even before their liveness key expires', async () => {
    const config = billingConfig(url, testPrefix());
    const redis = await cleanup.redis(url);
    await deadInstance(config, redis, 'edge-a', 2, T0 + 1000 + 61_200, true);

    // A peer leaves a live-looking owner alone...
    const peer = cleanup.edge(config, 'edge-b');
    expect(await peer.billing.recover()).toBe(0);
    // ...the same instance, restarted, knows that it is dead.
    const restarted = cleanup.edge(config, 'edge-a');
    await restarted.billing.start();
    await restarted.billing.flush(5000);
    const ended = endedOf(await streamEvents(redis, config));
    expect(ended.map((e) => [e.end_cause, e.duration_ms, e.billable_s, e.recovered_by])).toEqual([
      ['edge_restart', 61_200, 62, 'edge-a'],
      ['edge_restart', 61_200, 62, 'edge-a'],
    ]);
  });

  it('a call closed by recovery gets no second call.ended when its instance turns out alive and ends it', async () => {
    const config = billingConfig(url, testPrefix());
    const redis = await cleanup.redis(url);
    // The instance only looked dead (its liveness key expired during a Redis partition).
    const zombie = await deadInstance(config, redis, 'edge-a', 2, T0 + 3000);
    const peer = cleanup.edge(config, 'edge-b');
    expect(await peer.billing.recover()).toBe(2);
    // For the second call, the idempotency marker has expired: only the claim stands in the way.
    await redis.del(redisKeys(config.redis.key_prefix).billingSeen(zombie.sessions[1]!.info.callId));

    zombie.clock.advance(30_000);
    zombie.sessions.forEach((s) => s.end('caller_hangup'));
    await zombie.edge.billing.flush(5000);
    const ended = endedOf(await streamEvents(redis, config));
    expect(ended.map((e) => [e.end_cause, e.duration_ms])).toEqual([
      ['edge_restart', 2000],
      ['edge_restart', 2000],
    ]);
    const skipped = (result: string) => counter(zombie.edge.metrics.billingEvents, { type: 'call.ended', result });
    expect(await skipped('duplicate')).toBe(1);
    expect(await skipped('superseded')).toBe(1);
    expect(await skipped('appended')).toBe(0);
  });

  it('a normal end and a recovery racing for the same calls yield one call.ended per call', async () => {
    const config = billingConfig(url, testPrefix());
    const redis = await cleanup.redis(url);
    const racing = await deadInstance(config, redis, 'edge-a', 30, T0 + 2000);
    const peer = cleanup.edge(config, 'edge-b');
    racing.clock.advance(10_000);
    racing.sessions.forEach((s) => s.end('callee_hangup'));
    await Promise.all([racing.edge.billing.flush(5000), peer.billing.recover()]);

    const events = await streamEvents(redis, config);
    for (const s of racing.sessions) {
      const ended = endedOf(ofCall(events, s.info.callId));
      expect(ended).toHaveLength(1);
      // Whoever won, the charge follows from the duration it knew.
      const e = ended[0]!;
      expect(e.end_cause === 'callee_hangup' ? e.duration_ms === 10_000 : e.duration_ms === 1000).toBe(true);
    }
  });

  it('heartbeats keep a live instance from being recovered by its peers', async () => {
    const config = billingConfig(url, testPrefix());
    const redis = await cleanup.redis(url);
    const a = cleanup.edge(config, 'edge-a');
    await a.billing.start();
    const clock = new Clock(Date.now());
    const call = session(a, clock);
    call.answered();
    await a.billing.flush(5000);
    const keys = redisKeys(config.redis.key_prefix);
    expect(await redis.pttl(keys.billingAlive(a.billing.owner))).toBeGreaterThan(0);

    const b = cleanup.edge(config, 'edge-b');
    expect(await b.billing.recover()).toBe(0);
    expect(endedOf(await streamEvents(redis, config))).toHaveLength(0);
    // Past the liveness TTL (2 s) of the first heartbeat, a's later heartbeats (every 1 s) keep it alive.
    const firstBeat = Number(await redis.get(keys.billingAlive(a.billing.owner)));
    await expect.poll(async () => Number(await redis.get(keys.billingAlive(a.billing.owner))), { timeout: 5000, interval: 100 }).toBeGreaterThan(firstBeat + 2000);
    expect(await b.billing.recover()).toBe(0);

    clock.advance(4000);
    call.end('caller_hangup');
    await a.billing.flush(5000);
    expect(endedOf(await streamEvents(redis, config))).toEqual([expect.objectContaining({ end_cause: 'caller_hangup', billable_s: 60 })]);
  });
});
