import { afterEach, describe, expect, inject, it } from 'vitest';
import type { CallCorrectedEvent, CallEndedEvent } from '../../src/billing/events.js';
import type { Config } from '../../src/config/schema.js';
import { billingShardOf, redisKeys } from '../../src/stores/keys.js';
import type { RedisClient } from '../../src/stores/redis.js';
import { testPrefix } from '../helpers/fixtures.js';
import { billingConfig, Cleanup, Clock, counter, ofCall, session, streamEvents, type Edge } from './billing.support.js';

const url = inject('redisUrl');
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const T0 = 1_700_000_000_000;

async function redisMs(redis: RedisClient): Promise<number> {
  const [s, us] = (await redis.time()) as [number | string, number | string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * An instance that answered calls and then died: its events are in Redis, its open-call records
 * stay, its last heartbeat (own clock) is at `lastBeat`, and unless `alive` that heartbeat and its
 * first open call are long past on Redis's clock.
 */
async function deadInstance(config: Config, redis: RedisClient, instanceId: string, calls: number, lastBeat: number, alive = false) {
  const edge = cleanup.edge(config, instanceId);
  const clock = new Clock(T0);
  const sessions = Array.from({ length: calls }, () => session(edge, clock));
  clock.advance(1000);
  sessions.forEach((s) => s.answered());
  await edge.billing.flush(5000);
  const keys = redisKeys(config.redis.key_prefix);
  const redisNow = await redisMs(redis);
  const beatAt = alive ? redisNow : redisNow - 60_000;
  await redis.hset(keys.billingHeartbeats, edge.billing.owner, `${beatAt}:${lastBeat}`);
  for (const shard of keys.billingShards(config.billing.stream, config.billing.stream_shards)) {
    if (await redis.hexists(shard.owners, edge.billing.owner)) await redis.hset(shard.owners, edge.billing.owner, String(beatAt));
  }
  return { edge, sessions, clock, answeredAt: T0 + 1000 };
}

/** A peer with its own clock, ticked (heartbeat + recovery) once per heartbeat interval. */
function peer(config: Config, instanceId: string): { edge: Edge; clock: Clock; tick: () => Promise<number> } {
  const clock = new Clock(Date.now());
  const edge = cleanup.edge(config, instanceId, undefined, clock.now);
  return {
    edge,
    clock,
    tick: async () => {
      const closed = await edge.billing.recover();
      clock.advance(config.billing.heartbeat_interval_s * 1000);
      return closed;
    },
  };
}

/** Ticks until the peer has reached Redis for a whole liveness TTL (its fence), returning what it closed. */
async function untilFenced(p: ReturnType<typeof peer>, config: Config): Promise<number[]> {
  const ticks = config.billing.liveness_ttl_s / config.billing.heartbeat_interval_s + 1;
  const closed: number[] = [];
  for (let i = 0; i < ticks; i++) closed.push(await p.tick());
  return closed;
}

const endedOf = (events: readonly { type: string }[]): CallEndedEvent[] => events.filter((e): e is CallEndedEvent => e.type === 'call.ended');
const correctedOf = (events: readonly { type: string }[]): CallCorrectedEvent[] => events.filter((e): e is CallCorrectedEvent => e.type === 'call.corrected');

describe.each([1, 4])('restart recovery of answered calls (%i stream shards)', (shards) => {
  const config = (): Config => billingConfig(url, testPrefix(), { stream_shards: shards });

  it('a peer closes the calls of a dead instance once it has reached Redis for a whole TTL, up to the last heartbeat', async () => {
    const c = config();
    const redis = await cleanup.client(c);
    const dead = await deadInstance(c, redis, 'edge-a', 3, T0 + 1000 + 90_500);

    const b = peer(c, 'edge-b');
    const closed = await untilFenced(b, c);
    // Not before its own run of heartbeats spans the TTL: after an outage, everyone gets that long to beat again.
    expect(closed.slice(0, -1)).toEqual(closed.slice(0, -1).map(() => 0));
    expect(closed.at(-1)).toBe(3);
    await b.edge.billing.flush(5000);

    const events = await streamEvents(redis, c);
    const ended = endedOf(events);
    expect(ended).toHaveLength(3);
    for (const s of dead.sessions) {
      expect(ofCall(events, s.info.callId).map((e) => e.type)).toEqual(['call.started', 'call.answered', 'call.ended']);
    }
    for (const e of ended) {
      expect(e).toMatchObject({ end_cause: 'edge_restart', status: 'answered', duration_ms: 90_500, billable_s: 91, instance_id: 'edge-a', recovered_by: 'edge-b' });
    }
    expect(await counter(b.edge.metrics.billingRecoveredCalls)).toBe(3);
    // The dead owner is forgotten once it holds no open call.
    const keys = redisKeys(c.redis.key_prefix);
    expect(await redis.hexists(keys.billingHeartbeats, dead.edge.billing.owner)).toBe(0);
    for (const shard of keys.billingShards(c.billing.stream, shards)) {
      expect(await redis.exists(shard.open(dead.edge.billing.owner))).toBe(0);
      expect(await redis.hexists(shard.owners, dead.edge.billing.owner)).toBe(0);
    }
  });

  it('two instances recovering at the same time still close each call once', async () => {
    const c = config();
    const redis = await cleanup.client(c);
    const dead = await deadInstance(c, redis, 'edge-a', 20, T0 + 5000);
    const peers = [peer(c, 'edge-b'), peer(c, 'edge-c')];
    const closed = (await Promise.all(peers.map((p) => untilFenced(p, c)))).flat();
    closed.push(...(await Promise.all(peers.map((p) => p.tick()))));
    expect(closed.reduce((a, b) => a + b, 0)).toBe(20);

    const ended = endedOf(await streamEvents(redis, c));
    expect(ended).toHaveLength(20);
    expect(new Set(ended.map((e) => e.call_id))).toEqual(new Set(dead.sessions.map((s) => s.info.callId)));
    expect(ended.every((e) => e.end_cause === 'edge_restart' && e.duration_ms === 4000 && e.billable_s === 60)).toBe(true);
  });

  it('a restart with the same instance id closes its earlier calls at once, even while they look alive', async () => {
    const c = config();
    const redis = await cleanup.client(c);
    await deadInstance(c, redis, 'edge-a', 2, T0 + 1000 + 61_200, true);

    // A fenced peer leaves a live-looking owner alone...
    const b = peer(c, 'edge-b');
    expect(await untilFenced(b, c)).not.toContain(2);
    // ...the same instance, restarted, knows that it is dead.
    const restarted = cleanup.edge(c, 'edge-a');
    await restarted.billing.start();
    await restarted.billing.flush(5000);
    const ended = endedOf(await streamEvents(redis, c));
    expect(ended.map((e) => [e.end_cause, e.duration_ms, e.billable_s, e.recovered_by])).toEqual([
      ['edge_restart', 61_200, 62, 'edge-a'],
      ['edge_restart', 61_200, 62, 'edge-a'],
    ]);
  });

  it('an instance closed by a peer while alive states the real end of each call with call.corrected', async () => {
    const c = config();
    const redis = await cleanup.client(c);
    // The instance only looked dead (cut off from Redis past the TTL).
    const zombie = await deadInstance(c, redis, 'edge-a', 2, T0 + 3000);
    const b = peer(c, 'edge-b');
    expect((await untilFenced(b, c)).reduce((x, y) => x + y, 0)).toBe(2);
    // For the second call, the idempotency marker has expired: only the claim stands in the way.
    const keys = redisKeys(c.redis.key_prefix);
    const second = zombie.sessions[1]!.info.callId;
    await redis.del(keys.billingShards(c.billing.stream, shards)[billingShardOf(second, shards)]!.seen(second));

    zombie.clock.advance(30_000);
    zombie.sessions.forEach((s) => s.end('caller_hangup'));
    await zombie.edge.billing.flush(5000);
    const events = await streamEvents(redis, c);
    expect(endedOf(events).map((e) => [e.end_cause, e.duration_ms])).toEqual([
      ['edge_restart', 2000],
      ['edge_restart', 2000],
    ]);
    const corrected = correctedOf(events);
    expect(corrected).toHaveLength(2);
    for (const e of corrected) {
      expect(e).toMatchObject({ end_cause: 'caller_hangup', duration_ms: 30_000, billable_s: 60, status: 'answered', corrects: `${e.call_id}:call.ended` });
      expect(e.idempotency_key).toBe(`${e.call_id}:call.corrected`);
    }
    expect(await counter(zombie.edge.metrics.billingEvents, { type: 'call.ended', result: 'superseded' })).toBe(2);
    expect(await counter(zombie.edge.metrics.billingEvents, { type: 'call.ended', result: 'appended' })).toBe(0);
    // Told again (a replay), nothing new is appended.
    zombie.sessions[0]!.end('caller_hangup');
    await zombie.edge.billing.flush(5000);
    expect(correctedOf(await streamEvents(redis, c))).toHaveLength(2);
  });

  it('a normal end and a recovery racing for the same calls yield one call.ended per call, and corrections only where recovery won', async () => {
    const c = config();
    const redis = await cleanup.client(c);
    const racing = await deadInstance(c, redis, 'edge-a', 30, T0 + 2000);
    const b = peer(c, 'edge-b');
    for (let i = 0; i < c.billing.liveness_ttl_s / c.billing.heartbeat_interval_s; i++) await b.tick();
    racing.clock.advance(10_000);
    racing.sessions.forEach((s) => s.end('callee_hangup'));
    await Promise.all([racing.edge.billing.flush(5000), b.tick()]);
    await racing.edge.billing.flush(5000);

    const events = await streamEvents(redis, c);
    for (const s of racing.sessions) {
      const ended = endedOf(ofCall(events, s.info.callId));
      expect(ended).toHaveLength(1);
      const e = ended[0]!;
      const corrected = correctedOf(ofCall(events, s.info.callId));
      if (e.end_cause === 'callee_hangup') {
        expect(e.duration_ms).toBe(10_000);
        expect(corrected).toHaveLength(0);
      } else {
        expect(e.duration_ms).toBe(1000);
        expect(corrected.map((x) => x.duration_ms)).toEqual([10_000]);
      }
    }
  });

  it('heartbeats keep a live instance from being closed by its fenced peers', async () => {
    const c = config();
    const redis = await cleanup.client(c);
    const a = cleanup.edge(c, 'edge-a');
    await a.billing.start();
    const clock = new Clock(Date.now());
    const call = session(a, clock);
    call.answered();
    await a.billing.flush(5000);
    const keys = redisKeys(c.redis.key_prefix);
    const firstBeat = Number((await redis.hget(keys.billingHeartbeats, a.billing.owner))!.split(':')[0]);

    const b = peer(c, 'edge-b');
    // b's own clock runs fast (it is fenced after three ticks); a's heartbeats run on the real clock.
    await untilFenced(b, c);
    await expect.poll(async () => Number((await redis.hget(keys.billingHeartbeats, a.billing.owner))!.split(':')[0]), { timeout: 5000, interval: 100 }).toBeGreaterThan(firstBeat + 2000);
    expect(await b.tick()).toBe(0);
    expect(endedOf(await streamEvents(redis, c))).toHaveLength(0);

    clock.advance(4000);
    call.end('caller_hangup');
    await a.billing.flush(5000);
    expect(endedOf(await streamEvents(redis, c))).toEqual([expect.objectContaining({ end_cause: 'caller_hangup', billable_s: 60 })]);
  });
});
