import { expect, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { finalResponse, header, receivedRequests, runSippUac, withSippUas } from '../../helpers/sipp.js';
import { exampleSdpOffer, type SendInviteOptions } from '../../helpers/tlsClient.js';
import { callOverTcp } from '../support/tcpCaller.js';
import { useEdge } from '../support/fixture.js';

/** An SDP offer padded with a= lines to about `bytes`. */
function paddedOffer(ip: string, bytes: number): string {
  const lines = Array.from({ length: Math.ceil(bytes / 72) }, (_, i) => `a=x-pad-${i}:${'0'.repeat(60)}`);
  return `${exampleSdpOffer(ip)}${lines.join('\r\n')}\r\n`;
}

/**
 * Issue 12.1, 12.4, 12.6: messages the edge must not pass on as they are (too large for
 * drachtio-server, no Contact, an untrusted caller identity), and a drachtio-server that stops
 * reading the edge.
 */
describeE2E('hostile: oversize messages, missing Contact, untrusted identity', () => {
  // a limit below what drachtio-server itself takes in a dialog (it answers 400 to in-dialog requests over ~9 KB)
  const fx = useEdge({ drachtio: { stall_check_ms: 300 }, sip: { max_message_bytes: 6000 } });
  const target = () => `127.0.0.1:${fx.drachtio.sipPort}`;
  const invite = (source: string, did: string, extra: Partial<SendInviteOptions> = {}) => callOverTcp(fx.drachtio, source, did, extra);
  /** A plain call and an OPTIONS still work: drachtio-server still reads the edge. */
  const stillServing = async (source: string, did: string): Promise<void> => {
    const call = await runSippUac({ scenario: 'uac-carrier-answered', target: target(), sourceIp: source, service: did, keys: { hold: '100' } });
    expect(finalResponse(call.messages)?.status).toBe(200);
    const options = await runSippUac({ scenario: 'uac-carrier-options', target: target(), sourceIp: source, service: did });
    expect(finalResponse(options.messages, 'OPTIONS')?.status).toBe(200);
  };

  it.each([12_000, 60_000])('refuses an INVITE with a %i-byte SDP with 513 message_too_large and keeps serving', async (bytes) => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await invite(r.source, r.number.phone_number, { sdp: paddedOffer(r.source, bytes) });
      expect(result.status).toBe(513);
      expect(result.headers['x-reject-reason']).toEqual(['message_too_large']);
      expect(receivedRequests(agent.messages(), 'INVITE')).toHaveLength(0);
      await stillServing(r.source, r.number.phone_number);
      expect(fx.edge.app.drachtio.state).toBe('connected');
    });
  });

  it('answers an INFO too large to pass on with 513 and keeps the call and the edge up', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await invite(r.source, r.number.phone_number, {
        midCall: [
          { method: 'INFO', body: 'x'.repeat(7000), contentType: 'application/octet-stream' },
          { method: 'MESSAGE', body: 'y'.repeat(7000), contentType: 'text/plain' },
        ],
      });
      expect(result.status).toBe(200);
      expect(result.midCallResponses?.map((m) => m?.status)).toEqual([513, 513]);
      expect(result.midCallResponses?.[0]?.headers['x-reject-reason']).toEqual(['message_too_large']);
      expect(result.byeResponse?.status).toBe(200);
      expect(receivedRequests(agent.messages(), 'INFO')).toHaveLength(0);
      await stillServing(r.source, r.number.phone_number);
    });
  });

  it('refuses an agent answer too large to pass on: 500 agent_answer_too_large, agent leg ended', async () => {
    await withSippUas({ scenario: 'uas-agent-answer-oversize' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await invite(r.source, r.number.phone_number);
      expect(result.status).toBe(500);
      expect(result.headers['x-reject-reason']).toEqual(['agent_answer_too_large']);
      await expect.poll(() => receivedRequests(agent.messages(), 'BYE').length, { timeout: 3000 }).toBe(1);
      await expect.poll(() => fx.edge.app.activeCalls.size, { timeout: 3000 }).toBe(0);
    });
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      await stillServing(r.source, r.number.phone_number);
    });
  });

  it('refuses an INVITE without Contact with 400 contact_invalid before any agent is called', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await invite(r.source, r.number.phone_number, { contact: false });
      expect(result.status).toBe(400);
      expect(result.headers['x-reject-reason']).toEqual(['contact_invalid']);
      expect(receivedRequests(agent.messages(), 'INVITE')).toHaveLength(0);
      expect(fx.edge.app.activeCalls.size).toBe(0);
    });
  });

  it.each([
    ['untrusted', false],
    ['trusted', true],
  ])('sets the agent leg From from the caller it believes, never from an %s trunk\'s P-Asserted-Identity', async (_what, trusted) => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { inbound: { trusted_identity: trusted } } });
      const result = await invite(r.source, r.number.phone_number, {
        from: '"Real Caller" <sip:+15557654321@127.0.0.1>',
        headers: { 'P-Asserted-Identity': '"Spoofed Bank" <sip:+19998887777@10.9.9.9>' },
      });
      expect(result.status).toBe(200);
      const [received] = receivedRequests(agent.messages(), 'INVITE');
      expect(header(received, 'From')).toMatch(/^<sip:\+15557654321@/);
      expect(header(received, 'From')).not.toContain('Spoofed');
      expect(header(received, 'X-Caller')).toBe('+15557654321');
      if (trusted) expect(header(received, 'P-Asserted-Identity')).toContain('+19998887777');
      else expect(header(received, 'P-Asserted-Identity')).toBeUndefined();
    });
  });

  it('notices a drachtio-server that stopped reading the edge: /readyz false, reconnect, calls work again', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const stallsBefore = (await fx.edge.app.metrics.drachtioStalls.get()).values[0]?.value ?? 0;
      // what a message over drachtio's buffer does: one frame that never completes
      wedgeDrachtio(fx.edge.app);
      await expect.poll(() => fx.edge.app.drachtio.state, { timeout: 3000, interval: 20 }).toBe('disconnected');
      expect((await fx.edge.api('/readyz')).status).toBe(503);
      await expect.poll(() => fx.edge.app.drachtio.state, { timeout: 5000 }).toBe('connected');
      expect((await fx.edge.app.metrics.drachtioStalls.get()).values[0]?.value).toBe(stallsBefore + 1);
      await stillServing(r.source, r.number.phone_number);
    });
  });
});

/** Writes the start of a 13,000-byte frame to drachtio-server on the edge's connection and nothing more. */
function wedgeDrachtio(app: { drachtio: unknown }): void {
  const srf = (app.drachtio as { srf: unknown }).srf as { _app: { client: { mapServer: Map<{ write(s: string): void }, unknown> } } };
  for (const socket of srf._app.client.mapServer.keys()) socket.write(`13000#${'x'.repeat(4000)}`);
}
