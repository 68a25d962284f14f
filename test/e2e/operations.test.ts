import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeE2E, startDrachtio, type DrachtioServer } from '../helpers/drachtioServer.js';
import { finalResponse, header, receivedResponses, runSippUac, startSippUas, withSippUas, type SippUas } from '../helpers/sipp.js';
import { startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { exampleSdpOffer, sendTlsInvite } from '../helpers/tlsClient.js';
import { startEdge, type RunningEdge } from './support/edge.js';
import { useEdge } from './support/fixture.js';
import { spawnEdge, type EdgeProcess } from './support/edgeProcess.js';
import { freshNumber, freshSource, World } from './support/world.js';

/** Protection and operations (issue: limits, scanners, outages, draining), end to end. */
describeE2E('operations end to end', () => {
  describe('silent drops', () => {
    const fx = useEdge({ sip: { silent_drop_unknown_sources: true } });

    it('answers nothing to an unknown source when silentDrop is configured', async () => {
      const carrier = await runSippUac({ scenario: 'uac-carrier-silence', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: '127.0.0.251', service: '15550001001', keys: { silence: '1500' } });
      expect(carrier.exitCode).toBe(0);
      expect(finalResponse(carrier.messages)).toBeUndefined();
      expect(receivedResponses(carrier.messages).every((m) => m.status === 100)).toBe(true);
    });

    it('answers nothing to a scanner User-Agent, even from a trunk address', async () => {
      const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9' });
      const scanner = await runSippUac({ scenario: 'uac-scanner-silence', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number, keys: { silence: '1500' } });
      expect(scanner.exitCode).toBe(0);
      expect(finalResponse(scanner.messages)).toBeUndefined();
    });
  });

  describe('limits under load', () => {
    const fx = useEdge();

    it('drops a flood from a source that matches no trunk, without slowing a trunk', async () => {
      const target = `127.0.0.1:${fx.drachtio.sipPort}`;
      const flood = runSippUac({ scenario: 'uac-carrier-403', target, sourceIp: '127.0.0.252', service: '15550001001', calls: 40, rate: 40, callTimeoutMs: 1500, timeoutMs: 15_000 });
      const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9', number: { status: 'suspended' } });
      const trunkCalls = runSippUac({ scenario: 'uac-carrier-403', target, sourceIp: r.source, service: r.number.phone_number, calls: 20, rate: 40, timeoutMs: 15_000 });
      const [flooded, legit] = await Promise.all([flood, trunkCalls]);
      // the default unknown-source rate is 5/s: a burst of 5 answered (403), the rest of the second dropped
      expect(flooded.stats?.successful).toBeGreaterThanOrEqual(5);
      expect(flooded.stats?.successful).toBeLessThanOrEqual(12);
      expect(flooded.stats?.failed).toBeGreaterThanOrEqual(28);
      expect(legit.stats).toMatchObject({ successful: 20, failed: 0 });
    });

    it('holds a calls-per-second limit within 10% under SIPp at twice the limit', async () => {
      const limit = 10;
      const rate = 2 * limit;
      const calls = 80; // 4 s of offered load
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
        const r = await fx.world.route({ agentUri: agent.uri, trunk: { limits: { max_cps: limit } } });
        const carrier = await runSippUac({
          scenario: 'uac-carrier-answered',
          target: `127.0.0.1:${fx.drachtio.sipPort}`,
          sourceIp: r.source,
          service: r.number.phone_number,
          calls,
          rate,
          keys: { hold: '100' },
          timeoutMs: 30_000,
        });
        const seconds = calls / rate;
        const admitted = carrier.stats?.successful ?? -1;
        const refused = carrier.stats?.failed ?? -1;
        expect(admitted + refused).toBe(calls);
        // the bucket allows a burst of 200 ms worth on top of the steady rate
        const burst = limit / 5;
        expect(admitted).toBeGreaterThanOrEqual(Math.floor(0.9 * limit * seconds));
        expect(admitted).toBeLessThanOrEqual(Math.ceil(1.1 * limit * seconds + burst));
      });
    });
  });

  describe('Redis outage', () => {
    let redis: RedisServer;
    let drachtio: DrachtioServer;
    let edge: RunningEdge;
    let world: World;
    let agent: SippUas;
    beforeAll(async () => {
      redis = await startRedisServer();
      drachtio = await startDrachtio();
      edge = await startEdge(drachtio, redis.url);
      world = new World(edge);
      agent = await startSippUas({ scenario: 'uas-agent-answer' });
    });
    afterAll(async () => {
      await agent?.stop();
      await edge?.stop();
      await drachtio?.stop();
      await redis?.stop();
    });

    it('keeps cached numbers working, answers 503 fast for the rest, and recovers when Redis returns', async () => {
      const cached = await world.route({ agentUri: agent.uri, trunk: { inbound: { transports: ['udp', 'tcp'] } } });
      const uncached = await world.number({ inbound_routing: { agent_id: cached.agent.id } });
      const invite = (to: string) =>
        sendTlsInvite({
          tls: false,
          host: '127.0.0.1',
          port: drachtio.sipPort,
          localAddress: cached.source,
          requestUri: `sip:${to}@127.0.0.1:${drachtio.sipPort};transport=tcp`,
          from: 'sip:+15557654321@carrier.example',
          to: `sip:${to}@127.0.0.1`,
          sdp: exampleSdpOffer(cached.source),
        });
      expect((await invite(cached.number.phone_number)).status).toBe(200); // now in the route cache

      await redis.stop();
      await expect.poll(async () => (await edge.api('/readyz')).status, { timeout: 5000 }).toBe(503);

      expect((await invite(cached.number.phone_number)).status).toBe(200);
      const started = performance.now();
      const refused = await invite(uncached.phone_number);
      const elapsed = performance.now() - started;
      expect(refused.status).toBe(503);
      expect(refused.headers['x-reject-reason']).toEqual(['route_unavailable']);
      expect(refused.headers['retry-after']?.[0]).toMatch(/^\d+$/);
      expect(elapsed).toBeLessThan(100);

      // Redis returns (empty: no persistence here); what the operator writes now works again.
      await redis.start();
      await expect.poll(async () => (await edge.api('/readyz')).status, { timeout: 10_000 }).toBe(200);
      await world.trunk({ id: cached.trunk.id, inbound: { allowed_cidrs: [`${cached.source}/32`], transports: ['udp', 'tcp'] } });
      const again = await world.agent(agent.uri, { id: cached.agent.id });
      const fresh = await world.number({ inbound_routing: { agent_id: again.id } });
      expect((await invite(fresh.phone_number)).status).toBe(200);
    });
  });

  describe('drachtio-server restart', () => {
    const fx = useEdge();

    it('reconnects by itself and takes calls again within 5 s', async () => {
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
        const r = await fx.world.route({ agentUri: agent.uri });
        await fx.drachtio.kill();
        await expect.poll(() => fx.edge.app.drachtio.state, { timeout: 5000 }).toBe('disconnected');
        await fx.drachtio.start();
        const restarted = Date.now();
        await expect.poll(() => fx.edge.app.drachtio.state, { timeout: 5000, interval: 50 }).toBe('connected');
        const carrier = await runSippUac({ scenario: 'uac-carrier-answered', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number });
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        expect(Date.now() - restarted).toBeLessThan(5000);
      });
    });
  });

  describe('graceful shutdown (SIGTERM to the edge process)', () => {
    let drachtio: DrachtioServer;
    let proc: EdgeProcess | null = null;
    beforeAll(async () => {
      drachtio = await startDrachtio();
    });
    afterEach(() => proc?.kill('SIGKILL'));
    afterAll(async () => {
      await drachtio?.stop();
    });

    it('refuses new calls with 503 at once, lets active calls finish, then exits 0', async () => {
      proc = await spawnEdge(drachtio, inject('redisUrl'), { shutdown: { drain_timeout_s: 15, handoff_new_calls: false } });
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
        const source = freshSource();
        const trunk = await proc!.api('/v1/trunks', { body: { name: 'drain', kind: 'managed', inbound: { allowed_cidrs: [`${source}/32`] } } });
        expect(trunk.status).toBe(201);
        const ag = await proc!.api('/v1/agents', { body: { workspace_id: 'ws_1', name: 'a', sip_uri: agent.uri } });
        const phone = freshNumber();
        const num = await proc!.api('/v1/phone-numbers', { body: { phone_number: phone, workspace_id: 'ws_1', telephony: 'managed', inbound_routing: { agent_id: ag.body.id } } });
        expect(num.status).toBe(201);
        const target = `127.0.0.1:${drachtio.sipPort}`;
        // wait until the trunk reached the process's table (the dry run says "accept")
        await expect.poll(async () => (await proc!.api('/v1/route-test', { body: { source_ip: source, request_uri: `sip:${phone}@x` } })).body.decision).toBe('accept');

        const held = runSippUac({ scenario: 'uac-carrier-answered', target, sourceIp: source, service: phone, keys: { hold: '3000' }, timeoutMs: 20_000 });
        await expect.poll(async () => (await proc!.api('/v1/calls')).body.data.length, { timeout: 5000 }).toBe(1);

        proc!.kill('SIGTERM');
        await expect.poll(async () => (await proc!.api('/readyz')).status, { timeout: 2000 }).toBe(503);
        const refused = await runSippUac({ scenario: 'uac-carrier-503', target, sourceIp: source, service: phone });
        const final = finalResponse(refused.messages);
        expect(final?.status).toBe(503);
        expect(header(final, 'X-Reject-Reason')).toBe('draining');
        expect(header(final, 'Retry-After')).toMatch(/^\d+$/);

        const finished = await held;
        expect(finishedOk(finished)).toBe(true);
        const exit = await proc!.exit;
        expect(exit.code).toBe(0);
        proc = null;
      });
    });
  });
});

function finishedOk(result: { exitCode: number | null; messages: Parameters<typeof finalResponse>[0] }): boolean {
  return result.exitCode === 0 && finalResponse(result.messages)?.status === 200;
}
