import { expect, it } from 'vitest';
import { describeE2E } from '../helpers/drachtioServer.js';
import { finalResponse, header, receivedRequests, receivedResponses, runSippUac, withSippUas } from '../helpers/sipp.js';
import { exampleSdpOffer } from '../helpers/tlsClient.js';
import { callOverTcp } from './support/tcpCaller.js';
import { useEdge } from './support/fixture.js';

/** Issue 14.4: every final failure the edge sends or forwards carries a stable reason. */
describeE2E('failures carry a stable reason', () => {
  const fx = useEdge({ sip: { ring_timeout_s: 2, retry_after_s: 7 } });

  it('an unreachable agent: 503 agent_unreachable with Retry-After', async () => {
    const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9;transport=tcp' });
    const result = await callOverTcp(fx.drachtio, r.source, r.number.phone_number, { timeoutMs: 20_000 });
    expect(result.status).toBe(503);
    expect(result.headers['x-reject-reason']).toEqual(['agent_unreachable']);
    expect(result.headers['retry-after']).toEqual(['7']);
    expect(result.headers.reason?.[0]).toContain('agent_unreachable');
  });

  it.each([
    ['busy', 'uas-agent-busy', 'uac-carrier-486', 486, 'agent_busy'],
    ['ringing past the ring timeout', 'uas-agent-noanswer', 'uac-carrier-480', 480, 'agent_timeout'],
    ['answering 503', 'uas-agent-503', 'uac-carrier-503', 503, 'agent_unavailable'],
  ])('an agent %s (%s): the caller gets the status with its reason', async (_what, agentScenario, carrierScenario, status, reason) => {
    await withSippUas({ scenario: agentScenario }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const call = await runSippUac({ scenario: carrierScenario, target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number });
      const final = finalResponse(call.messages);
      expect(final?.status).toBe(status);
      expect(header(final, 'X-Reject-Reason')).toBe(reason);
      expect(header(final, 'Reason')).toContain(`cause=${status}`);
    });
  });
});

describeE2E('provisional answers', () => {
  const fx = useEdge();

  it('an 18x to the caller carries the edge\'s Contact (RFC 3261 12.1.1)', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const call = await runSippUac({ scenario: 'uac-carrier-answered', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number, keys: { hold: '100' } });
      const ringing = receivedResponses(call.messages).find((m) => m.status === 180);
      expect(ringing).toBeDefined();
      expect(header(ringing, 'Contact')).toBe(`<sip:127.0.0.1:${fx.drachtio.sipPort}>`);
    });
  });
});

describeE2E('transport to the agent by size (RFC 3261 18.1.1)', () => {
  const fx = useEdge();
  const bigOffer = (ip: string): string =>
    `${exampleSdpOffer(ip)}${Array.from({ length: 25 }, (_, i) => `a=x-pad-${i}:${'0'.repeat(60)}`).join('\r\n')}\r\n`;
  const call = (source: string, did: string) => callOverTcp(fx.drachtio, source, did, { sdp: bigOffer(source), timeoutMs: 15_000 });

  it('an INVITE over 1300 bytes reaches an agent URI without transport over TCP', async () => {
    await withSippUas({ scenario: 'uas-agent-answer', transport: 't1' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri.replace(';transport=tcp', '') });
      const result = await call(r.source, r.number.phone_number);
      expect(result.status).toBe(200);
      const [invite] = receivedRequests(agent.messages(), 'INVITE');
      expect(invite?.raw.length).toBeGreaterThan(1300);
      expect(header(invite, 'Via')).toMatch(/^SIP\/2\.0\/TCP /i);
    });
  });

  it('falls back to UDP when the agent takes no TCP', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await call(r.source, r.number.phone_number);
      expect(result.status).toBe(200);
      const [invite] = receivedRequests(agent.messages(), 'INVITE');
      expect(header(invite, 'Via')).toMatch(/^SIP\/2\.0\/UDP /i);
    });
  });
});
