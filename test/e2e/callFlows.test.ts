import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeE2E, startDrachtio, type DrachtioServer } from '../helpers/drachtioServer.js';
import { finalResponse, header, receivedRequests, receivedResponses, runSippUac, startSippUas, withSippUas, type SippUas } from '../helpers/sipp.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady } from '../../src/stores/redis.js';
import { startEdge, type RunningEdge } from './support/edge.js';
import { World } from './support/world.js';

/** Failover, voicemail, CANCEL, in-dialog requests, max duration and limits, end to end. */
describeE2E('inbound call flows end to end', () => {
  let drachtio: DrachtioServer;
  let edge: RunningEdge;
  let world: World;
  let voicemail: SippUas;

  beforeAll(async () => {
    drachtio = await startDrachtio();
    voicemail = await startSippUas({ scenario: 'uas-agent-answer', user: 'voicemail' });
    edge = await startEdge(drachtio, inject('redisUrl'), { sip: { ring_timeout_s: 2, voicemail_uri: voicemail.uri } });
    world = new World(edge);
  });
  afterAll(async () => {
    await edge?.stop();
    await voicemail?.stop();
    await drachtio?.stop();
  });

  const call = (scenario: string, source: string, service: string, keys: Record<string, string> = {}) =>
    runSippUac({ scenario, target: `127.0.0.1:${drachtio.sipPort}`, sourceIp: source, service, keys, timeoutMs: 20_000 });

  it.each([
    ['503', 'uas-agent-503'],
    ['480', 'uas-agent-480'],
    ['no answer within the ring timeout', 'uas-agent-noanswer'],
  ])('fails over to the fallback agent when the primary answers %s', async (_what, primaryScenario) => {
    await withSippUas({ scenario: primaryScenario }, async (primary) => {
      await withSippUas({ scenario: 'uas-agent-checks-headers' }, async (fallback) => {
        const r = await world.route({ agentUri: primary.uri, fallbackUri: fallback.uri });
        const carrier = await call('uac-carrier-answered', r.source, r.number.phone_number);
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        expect(receivedRequests(primary.messages(), 'INVITE')).not.toHaveLength(0);
        const [invite] = receivedRequests(fallback.messages(), 'INVITE');
        expect(header(invite, 'X-Agent-Id')).toBe(r.fallback!.id);
        expect(header(invite, 'X-Number-Id')).toBe(r.number.id);
        if (primaryScenario === 'uas-agent-noanswer') {
          expect(receivedRequests(primary.messages(), 'CANCEL')).toHaveLength(1);
        }
      });
    });
  });

  it('does not fail over on 486 Busy: the caller gets 486', async () => {
    await withSippUas({ scenario: 'uas-agent-busy' }, async (primary) => {
      await withSippUas({ scenario: 'uas-agent-answer' }, async (fallback) => {
        const r = await world.route({ agentUri: primary.uri, fallbackUri: fallback.uri });
        const carrier = await call('uac-carrier-486', r.source, r.number.phone_number);
        expect(finalResponse(carrier.messages)?.status).toBe(486);
        expect(receivedRequests(fallback.messages(), 'INVITE')).toHaveLength(0);
      });
    });
  });

  it('goes to voicemail with X-Voicemail-Message when primary and fallback both fail', async () => {
    await withSippUas({ scenario: 'uas-agent-503' }, async (primary) => {
      await withSippUas({ scenario: 'uas-agent-503' }, async (fallback) => {
        const r = await world.route({ agentUri: primary.uri, fallbackUri: fallback.uri, voicemailMessage: 'Leave a message after the tone' });
        const before = receivedRequests(voicemail.messages(), 'INVITE').length;
        const carrier = await call('uac-carrier-answered', r.source, r.number.phone_number);
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const invites = receivedRequests(voicemail.messages(), 'INVITE');
        expect(invites).toHaveLength(before + 1);
        const invite = invites[invites.length - 1];
        expect(header(invite, 'X-Voicemail-Message')).toBe('Leave a message after the tone');
        expect(header(invite, 'X-Number-Id')).toBe(r.number.id);
        expect(header(invite, 'X-Agent-Id')).toBeUndefined();
      });
    });
  });

  it('gives the caller the last failure when there is no voicemail message', async () => {
    await withSippUas({ scenario: 'uas-agent-503' }, async (primary) => {
      const r = await world.route({ agentUri: primary.uri });
      const carrier = await call('uac-carrier-503', r.source, r.number.phone_number);
      expect(finalResponse(carrier.messages)?.status).toBe(503);
    });
  });

  it('passes a CANCEL from the carrier to the ringing agent', async () => {
    await withSippUas({ scenario: 'uas-agent-noanswer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri });
      const carrier = await call('uac-carrier-cancel', r.source, r.number.phone_number);
      expect(carrier.exitCode).toBe(0);
      expect(finalResponse(carrier.messages)?.status).toBe(487);
      await agent.waitFor((m) => receivedRequests(m, 'CANCEL').length > 0, 5000);
      await expect.poll(() => edge.app.activeCalls.size).toBe(0);
    });
  });

  it('ends both legs when the agent hangs up', async () => {
    await withSippUas({ scenario: 'uas-agent-bye', keys: { hold: '300' } }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri });
      const carrier = await call('uac-carrier-bye-from-agent', r.source, r.number.phone_number);
      expect(carrier.exitCode).toBe(0);
      expect(receivedRequests(carrier.messages, 'BYE')).toHaveLength(1);
      await expect.poll(() => edge.app.activeCalls.size).toBe(0);
    });
  });

  it('passes a re-INVITE from the carrier through to the agent', async () => {
    await withSippUas({ scenario: 'uas-agent-reinvite' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri });
      const carrier = await call('uac-carrier-reinvite', r.source, r.number.phone_number);
      expect(carrier.exitCode).toBe(0);
      expect(receivedResponses(carrier.messages, 'INVITE').filter((m) => m.status === 200).length).toBeGreaterThanOrEqual(2);
      expect(receivedRequests(agent.messages(), 'INVITE').length).toBe(2);
    });
  });

  it("ends a call at the trunk's max call duration with BYE on both legs", async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri, trunk: { max_call_duration_s: 1 } });
      const started = Date.now();
      const carrier = await call('uac-carrier-bye-from-agent', r.source, r.number.phone_number);
      expect(carrier.exitCode).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      await agent.waitFor((m) => receivedRequests(m, 'BYE').length === 1, 5000);
    });
  });

  it('refuses the (N+1)th concurrent call on a trunk limited to N with 503, and the count returns to 0', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri, trunk: { limits: { max_concurrent_calls: 2 } } });
      const held = [
        call('uac-carrier-answered', r.source, r.number.phone_number, { hold: '2500' }),
        call('uac-carrier-answered', r.source, r.number.phone_number, { hold: '2500' }),
      ];
      await expect.poll(() => edge.app.activeCalls.list().filter((s) => s.info.trunkId === r.trunk.id && s.state === 'answered').length, { timeout: 5000 }).toBe(2);
      const third = await call('uac-carrier-503', r.source, r.number.phone_number);
      const final = finalResponse(third.messages);
      expect(final?.status).toBe(503);
      expect(header(final, 'X-Reject-Reason')).toBe('limit_trunk_calls');
      expect(header(final, 'Retry-After')).toMatch(/^\d+$/);
      for (const result of await Promise.all(held)) expect(finalResponse(result.messages)?.status).toBe(200);
      const redis = createRedis(edge.config.redis, 'test-limits');
      const key = redisKeys(edge.config.redis.key_prefix).activeCalls('trunk', r.trunk.id);
      try {
        await whenReady(redis, 5000);
        await expect.poll(() => redis.zcard(key), { timeout: 3000 }).toBe(0);
      } finally {
        redis.disconnect();
      }
    });
  });
});
