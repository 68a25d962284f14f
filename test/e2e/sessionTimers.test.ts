import { expect, inject, it } from 'vitest';
import { describeE2E } from '../helpers/drachtioServer.js';
import { header, receivedRequests, receivedResponses, runSippUac, withSippUas } from '../helpers/sipp.js';
import { type SendInviteOptions } from '../helpers/tlsClient.js';
import { readBillingEvents } from './support/billingStream.js';
import { callOverTcp } from './support/tcpCaller.js';
import { useEdge } from './support/fixture.js';

/** Issue 14.2 and 14.3: session timers on both legs, and a re-INVITE without SDP that keeps the media. */
describeE2E('session timers (RFC 4028) and SDP-less re-INVITEs', () => {
  const fx = useEdge({ sip: { session_timer: { interval_s: 1800, min_se_s: 90 } } });
  const invite = (source: string, did: string, extra: Partial<SendInviteOptions> = {}) => callOverTcp(fx.drachtio, source, did, extra);

  it('answers a Session-Expires below Min-SE with 422 and the edge\'s Min-SE', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await invite(r.source, r.number.phone_number, { headers: { 'Session-Expires': '60', Supported: 'timer' } });
      expect(result.status).toBe(422);
      expect(result.headers['min-se']).toEqual(['90']);
      expect(result.headers['x-reject-reason']).toEqual(['session_interval_too_small']);
      expect(receivedRequests(agent.messages(), 'INVITE')).toHaveLength(0);
    });
  });

  it('grants the caller its timer (Session-Expires and Require: timer in the 200) and asks the agent for one', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await invite(r.source, r.number.phone_number, { headers: { 'Session-Expires': '1200;refresher=uac', Supported: 'timer' } });
      expect(result.status).toBe(200);
      expect(result.headers['session-expires']?.[0]).toMatch(/^1200;\s*refresher=uac/);
      expect(result.headers.require?.join(',')).toMatch(/timer/);
      const [toAgent] = receivedRequests(agent.messages(), 'INVITE');
      expect(header(toAgent, 'Session-Expires')).toMatch(/^1800;\s*refresher=uac/);
      expect(header(toAgent, 'Min-SE')).toBe('90');
      expect(header(toAgent, 'Supported')).toMatch(/timer/);
    });
  });

  it('answers an SDP-less re-INVITE itself with the session the caller has: the agent is not bothered, the call goes on', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const carrier = await runSippUac({
        scenario: 'uac-carrier-media-sdpless',
        target: `127.0.0.1:${fx.drachtio.sipPort}`,
        sourceIp: r.source,
        service: r.number.phone_number,
        keys: { rtp_port: '31010', proto: 'RTP/AVP', crypto: 'a=ptime:20', hold: '300' },
      });
      const oks = receivedResponses(carrier.messages, 'INVITE').filter((m) => m.status === 200);
      expect(oks).toHaveLength(2);
      // the re-offer is the session the carrier already has: the agent's address and port as in the first 200
      expect(oks[1]!.body.replace(/^o=.*$/m, '')).toBe(oks[0]!.body.replace(/^o=.*$/m, ''));
      expect(receivedRequests(agent.messages(), 'INVITE')).toHaveLength(1);
      expect(receivedResponses(carrier.messages, 'BYE').map((m) => m.status)).toEqual([200]);
    });
  });

  it('answers the agent\'s SDP-less re-INVITE itself too: the carrier is not bothered, the call goes on', async () => {
    await withSippUas({ scenario: 'uas-agent-sdpless-reinvite', keys: { hold: '300' } }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const carrier = await runSippUac({
        scenario: 'uac-carrier-answered',
        target: `127.0.0.1:${fx.drachtio.sipPort}`,
        sourceIp: r.source,
        service: r.number.phone_number,
        keys: { hold: '1500' },
      });
      expect(receivedResponses(carrier.messages, 'BYE').map((m) => m.status)).toEqual([200]);
      // the carrier saw no re-INVITE; the agent got its 200 with an offer and ACKed it
      expect(receivedRequests(carrier.messages, 'INVITE')).toHaveLength(0);
      const oks = receivedResponses(agent.messages(), 'INVITE').filter((m) => m.status === 200);
      expect(oks).toHaveLength(1);
      expect(oks[0]!.body).toMatch(/m=audio \d+/);
      await expect.poll(() => receivedRequests(agent.messages(), 'BYE').length, { timeout: 3000 }).toBe(1);
    });
  });

  it('ends both legs when the caller does not refresh: end_cause session_timer, billed to the last proof of life', { timeout: 150_000 }, async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { kind: 'byoc' } });
      const started = Date.now();
      const result = await invite(r.source, r.number.phone_number, {
        headers: { 'Session-Expires': '90;refresher=uac', Supported: 'timer' },
        holdMs: 130_000,
        timeoutMs: 140_000,
      });
      expect(result.status).toBe(200);
      // drachtio-server sent the carrier a BYE when the refresh did not come, and the agent its BYE
      expect(result.requestsReceived?.some((m) => m.reason.startsWith('BYE '))).toBe(true);
      await expect.poll(() => receivedRequests(agent.messages(), 'BYE').length, { timeout: 3000 }).toBe(1);
      const endedEvent = async () => (await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix)).find((e) => e.call_id === result.callId && e.type === 'call.ended');
      await expect.poll(endedEvent, { timeout: 3000 }).toBeDefined();
      const ended = await endedEvent();
      expect(ended?.end_cause).toBe('session_timer');
      // the carrier never refreshed: its last proof of life is the answer, so nothing after it is billed
      expect(ended?.duration_ms).toBeLessThan(2000);
      // RFC 4028 10: the session expires at 90 s less min(32, 90/3) = 60 s at the earliest, 90 s at the latest
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThan(55_000);
      expect(elapsed).toBeLessThan(100_000);
      await expect.poll(() => fx.edge.app.activeCalls.size, { timeout: 3000 }).toBe(0);
    });
  });

  it('notices a dead agent by its session timer: a failed refresh ends both legs with end_cause session_timer', { timeout: 120_000 }, async () => {
    await withSippUas({ scenario: 'uas-agent-timer-then-gone' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { kind: 'byoc' } });
      const started = Date.now();
      const result = await invite(r.source, r.number.phone_number, { holdMs: 100_000, timeoutMs: 110_000 });
      expect(result.status).toBe(200);
      // the edge refreshed the agent leg about half-way through the 90 s interval
      expect(receivedRequests(agent.messages(), 'INVITE')).toHaveLength(2);
      // and ended the carrier's leg when the refresh failed
      expect(result.requestsReceived?.some((m) => m.reason.startsWith('BYE '))).toBe(true);
      expect(Date.now() - started).toBeLessThan(95_000);
      const endedEvent = async () => (await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix)).find((e) => e.call_id === result.callId && e.type === 'call.ended');
      await expect.poll(endedEvent, { timeout: 3000 }).toBeDefined();
      expect((await endedEvent())?.end_cause).toBe('session_timer');
    });
  });
});
