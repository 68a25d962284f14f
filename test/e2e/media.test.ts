import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeE2E } from '../helpers/drachtioServer.js';
import { describeRtpengine, startRtpengine, type Rtpengine } from '../helpers/rtpengine.js';
import { waitUntil } from '../helpers/localProcess.js';
import { finalResponse, header, receivedRequests, receivedResponses, runSippUac, sentRequests, startSippUas, type SipMessage, type SippUas } from '../helpers/sipp.js';
import { ofCall, readBillingEvents } from './support/billingStream.js';
import { useEdge } from './support/fixture.js';
import { mediaOf, RtpEndpoint } from './support/rtp.js';
import { freshSource } from './support/world.js';

const CARRIER_KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
const PLAIN = { proto: 'RTP/AVP', crypto: 'a=ptime:20' };
const callIdOf = (messages: readonly SipMessage[]): string => header(sentRequests(messages, 'INVITE')[0], 'Call-ID') ?? '';
const bodiesOf = (messages: readonly SipMessage[]) => messages.map((m) => m.body).join('\n');

let agentHost = 20;
const freshAgentIp = (): string => `127.0.3.${agentHost++}`;

/** SIPp trace timestamps ("2025-01-02\t10:11:12.345678") as epoch ms. */
const traceMs = (m: SipMessage | undefined): number => Date.parse(`${(m?.timestamp ?? '').trim().replace(/\s+/, 'T')}`);

/** Media anchored through a real rtpengine, end to end: drachtio + SIPp (signalling) + RTP endpoints of the test. */
describeE2E('media anchor end to end', () => {
  describeRtpengine('with rtpengine', () => {
    let rtp: Rtpengine;
    beforeAll(async () => {
      rtp = await startRtpengine();
    });
    afterAll(async () => {
      await rtp?.stop();
    });
    const fx = useEdge(() => ({ sip: { agent_cidrs: ['127.0.5.0/24'] }, media: { anchor: (process.env.MEDIA_PROOF_OFF ? 'off' : 'always') as 'off' | 'always', rtpengine: [rtp.ng], command_timeout_ms: 300, ping_interval_ms: 250 } }));
    const inRange = (port: number): boolean => port >= rtp.portMin && port <= rtp.portMax;

    const call = (scenario: string, source: string, service: string, keys: Record<string, string>) =>
      runSippUac({ scenario, target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: source, service, keys, timeoutMs: 30_000 });

    /** An agent (SIPp UAS on its own address) whose RTP endpoint streams to wherever its INVITE's SDP says. */
    async function agent(reinviteDir = 'sendrecv'): Promise<{ uas: SippUas; media: RtpEndpoint; ip: string; close: () => Promise<void> }> {
      const ip = freshAgentIp();
      const media = await RtpEndpoint.open(ip);
      const uas = await startSippUas({ scenario: 'uas-agent-media', ip, keys: { rtp_port: String(media.port), reinvite_dir: reinviteDir } });
      return {
        uas,
        media,
        ip,
        close: async () => {
          media.close();
          await uas.stop();
        },
      };
    }

    const events = async (callId: string) => ofCall(await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix), callId);

    it('anchors RTP both ways; each side sees only the anchor in SDP; call.ended carries the packets', async () => {
      const a = await agent();
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri });
        const carrierMedia = await RtpEndpoint.open(r.source);
        carrierMedia.streamToSource();
        const running = call('uac-carrier-media', r.source, r.number.phone_number, { ...PLAIN, rtp_port: String(carrierMedia.port), hold: '2500' });
        const [invite] = await a.uas.waitFor((m) => receivedRequests(m, 'INVITE').length > 0);
        a.media.streamToSdp(invite!.body);
        const carrier = await running;
        a.media.stop();
        carrierMedia.close();

        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const toCarrier = mediaOf(finalResponse(carrier.messages)!.body);
        const toAgent = mediaOf(invite!.body);
        expect(toCarrier.ip).toBe('127.0.0.1');
        expect(toAgent.ip).toBe('127.0.0.1');
        expect(inRange(toCarrier.port) && inRange(toAgent.port)).toBe(true);
        // nothing of one side reaches the other: addresses, ports, the agent's SSRC cname
        expect(invite!.body).not.toContain(r.source);
        expect(invite!.body).not.toContain(String(carrierMedia.port));
        const carrierSaw = bodiesOf(receivedResponses(carrier.messages));
        expect(carrierSaw).not.toContain(a.ip);
        expect(carrierSaw).not.toContain(String(a.media.port));
        expect(carrierSaw).not.toContain('agent-secret');
        // RTP reached each endpoint through the anchor, from the anchor's ports
        expect(a.media.received).toBeGreaterThan(40);
        expect(carrierMedia.received).toBeGreaterThan(40);
        expect(carrierMedia.source).toEqual({ address: '127.0.0.1', port: toCarrier.port });
        expect(a.media.source).toEqual({ address: '127.0.0.1', port: toAgent.port });

        const callId = callIdOf(carrier.messages);
        await expect.poll(async () => (await events(callId)).map((e) => e.type), { timeout: 3000 }).toContain('call.ended');
        const ended = (await events(callId)).find((e) => e.type === 'call.ended')!;
        expect(ended.schema_version).toBe(2);
        const media = ended.media as { from_carrier: { packets: number }; from_agent: { packets: number } };
        expect(media.from_carrier.packets).toBeGreaterThan(40);
        expect(media.from_agent.packets).toBeGreaterThan(40);
        expect(media.from_carrier.packets).toBeLessThanOrEqual(carrierMedia.sent);
        expect(media.from_agent.packets).toBeLessThanOrEqual(a.media.sent);
      } finally {
        await a.close();
      }
    });

    it('terminates SDES on the carrier leg: the RTP agent gets plain RTP, no a=crypto, no carrier key', async () => {
      const a = await agent();
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri, trunk: { inbound: { media_encryption: 'required' } } });
        const carrier = await call('uac-carrier-media', r.source, r.number.phone_number, {
          proto: 'RTP/SAVP',
          crypto: `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${CARRIER_KEY}`,
          rtp_port: '30990',
          hold: '300',
        });
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const [invite] = receivedRequests(a.uas.messages(), 'INVITE');
        expect(mediaOf(invite!.body).proto).toBe('RTP/AVP');
        expect(invite!.body).not.toMatch(/a=crypto|a=fingerprint/);
        expect(a.uas.messages().map((m) => m.raw).join('\n')).not.toContain(CARRIER_KEY);
        const answer = finalResponse(carrier.messages)!.body;
        expect(mediaOf(answer).proto).toBe('RTP/SAVP');
        expect(answer).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
        expect(answer).not.toContain(CARRIER_KEY);
      } finally {
        await a.close();
      }
    });

    it('refuses an sdes agent that answers plain RTP: 488 media_encryption_mismatch with a Warning', async () => {
      const a = await agent();
      try {
        const source = freshSource();
        const trunk = await fx.world.trunk({ inbound: { allowed_cidrs: [`${source}/32`] } });
        const sdesAgent = await fx.world.agent(a.uas.uri, { media_encryption: 'sdes' });
        const number = await fx.world.number({ telephony: 'managed', inbound_routing: { agent_id: sdesAgent.id } });
        void trunk;
        const carrier = await call('uac-carrier-488', source, number.phone_number, {});
        const final = finalResponse(carrier.messages);
        expect(final?.status).toBe(488);
        expect(header(final, 'X-Reject-Reason')).toBe('media_encryption_mismatch');
        expect(header(final, 'Warning')).toMatch(/^305 /);
        const [invite] = receivedRequests(a.uas.messages(), 'INVITE');
        expect(mediaOf(invite!.body).proto).toBe('RTP/SAVP');
        // the agent that answered is hung up
        await a.uas.waitFor((m) => receivedRequests(m, 'BYE').length === 1, 5000);
      } finally {
        await a.close();
      }
    });

    it('passes hold and resume from the carrier through the anchor', async () => {
      const a = await agent('recvonly');
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri });
        const carrier = await call('uac-carrier-media-hold', r.source, r.number.phone_number, { ...PLAIN, rtp_port: '30992', hold: '400' });
        expect(receivedResponses(carrier.messages, 'INVITE').filter((m) => m.status === 200)).toHaveLength(3);
        const invites = receivedRequests(a.uas.messages(), 'INVITE');
        expect(invites).toHaveLength(3);
        expect(invites[1]!.body).toMatch(/a=sendonly/);
        expect(invites[2]!.body).toMatch(/a=sendrecv/);
        for (const inv of invites) expect(mediaOf(inv.body).ip).toBe('127.0.0.1');
        const heldAnswer = receivedResponses(carrier.messages, 'INVITE').filter((m) => m.status === 200)[1]!.body;
        expect(heldAnswer).toMatch(/a=recvonly/);
        expect(mediaOf(heldAnswer).ip).toBe('127.0.0.1');
      } finally {
        await a.close();
      }
    });

    it('answers an SDP-less re-INVITE from the anchor with an offer, without bothering the agent', async () => {
      const a = await agent();
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri });
        const carrier = await call('uac-carrier-media-sdpless', r.source, r.number.phone_number, { ...PLAIN, rtp_port: '30994', hold: '400' });
        const oks = receivedResponses(carrier.messages, 'INVITE').filter((m) => m.status === 200);
        expect(oks).toHaveLength(2);
        expect(mediaOf(oks[1]!.body).ip).toBe('127.0.0.1');
        expect(inRange(mediaOf(oks[1]!.body).port)).toBe(true);
        expect(receivedRequests(a.uas.messages(), 'INVITE')).toHaveLength(1);
        expect(receivedResponses(carrier.messages, 'BYE').map((m) => m.status)).toEqual([200]);
      } finally {
        await a.close();
      }
    });

    it('anchors a late-offer call: the agent offers in its 200, the carrier answers in its ACK', async () => {
      const a = await agent();
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri });
        const carrier = await call('uac-carrier-media-late', r.source, r.number.phone_number, { ...PLAIN, rtp_port: '30996', hold: '300' });
        const ok = finalResponse(carrier.messages)!;
        expect(ok.status).toBe(200);
        expect(mediaOf(ok.body).ip).toBe('127.0.0.1');
        expect(ok.body).not.toContain(a.ip);
        const [invite] = receivedRequests(a.uas.messages(), 'INVITE');
        expect(invite!.body.trim()).toBe('');
        const [ack] = receivedRequests(a.uas.messages(), 'ACK');
        expect(mediaOf(ack!.body).ip).toBe('127.0.0.1');
        expect(ack!.body).not.toContain(r.source);
      } finally {
        await a.close();
      }
    });

    it('ends a call whose agent stops sending RTP: BYE both legs within the timeout + 2 s, billed to the last media', async () => {
      const a = await agent();
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri, trunk: { media_timeout_s: 2 } });
        const carrierMedia = await RtpEndpoint.open(r.source);
        carrierMedia.streamToSource();
        const running = call('uac-carrier-media-ended', r.source, r.number.phone_number, { ...PLAIN, rtp_port: String(carrierMedia.port) });
        const [invite] = await a.uas.waitFor((m) => receivedRequests(m, 'INVITE').length > 0);
        a.media.streamToSdp(invite!.body);
        await waitUntil(() => carrierMedia.received > 25, { timeoutMs: 5000, what: 'agent RTP at the carrier' });
        a.media.stop(); // the agent freezes; the carrier goes on sending
        const stoppedAt = Date.now();
        const carrier = await running;
        carrierMedia.close();
        const bye = receivedRequests(carrier.messages, 'BYE')[0];
        expect(bye).toBeDefined();
        const byeAt = traceMs(bye);
        expect(byeAt - stoppedAt).toBeLessThan(2000 + 2000);
        expect(byeAt - stoppedAt).toBeGreaterThan(1000);
        await a.uas.waitFor((m) => receivedRequests(m, 'BYE').length === 1, 3000);

        const callId = callIdOf(carrier.messages);
        await expect.poll(async () => (await events(callId)).map((e) => e.type), { timeout: 3000 }).toContain('call.ended');
        const ended = (await events(callId)).find((e) => e.type === 'call.ended')!;
        expect(ended.end_cause).toBe('media_timeout');
        // billing stops at the agent's last media (second precision), not at the BYE
        expect(Number(ended.ended_at)).toBeLessThan(byeAt - 800);
        expect(Math.abs(Number(ended.ended_at) - stoppedAt)).toBeLessThan(1000);
      } finally {
        await a.close();
      }
    });

    it('keeps a transferred call on the anchor: the transfer target and the re-INVITEd carrier see only the anchor', async () => {
      const target = await startSippUas({ scenario: 'uas-carrier-answer', ip: freshAgentIp() });
      const agentIp = freshAgentIp();
      const agentUas = await startSippUas({ scenario: 'uas-agent-refer', ip: agentIp, calls: 1, keys: { hold: '300', transfer_to: '+442071234567' } });
      try {
        const id = `trk-media-xfer-${Date.now()}`;
        const r = await fx.world.route({
          agentUri: agentUas.uri,
          trunk: { id, outbound: { termination_uris: [{ uri: `sip:${target.ip}:${target.port}`, priority: 10 }], allowed_countries: ['GB'] } },
          number: { trunk_id: id },
        });
        const carrier = await call('uac-carrier-transferred', r.source, r.number.phone_number, { hold: '1500' });
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const [invite] = receivedRequests(target.messages(), 'INVITE');
        expect(mediaOf(invite!.body).ip).toBe('127.0.0.1');
        expect(inRange(mediaOf(invite!.body).port)).toBe(true);
        expect(invite!.body).not.toContain(r.source);
        const reinvite = receivedRequests(carrier.messages, 'INVITE')[0];
        expect(reinvite).toBeDefined();
        expect(mediaOf(reinvite!.body).ip).toBe('127.0.0.1');
        expect(reinvite!.body).not.toContain(target.ip);
        await target.waitFor((m) => receivedRequests(m, 'BYE').length === 1, 5000);
      } finally {
        await agentUas.stop();
        await target.stop();
      }
    });

    let agentSource = 10;
    async function outboundSetup(carrierUri: string, mediaEncryption: 'allowed' | 'required') {
      const workspace = `ws_media_${agentSource}`;
      const trunk = await fx.world.trunk({
        kind: 'managed',
        inbound: { allowed_cidrs: [] },
        outbound: { termination_uris: [{ uri: carrierUri, priority: 10 }], allowed_countries: ['GB'], media_encryption: mediaEncryption },
      });
      const agentRecord = await fx.world.agent('sip:agent@127.0.0.1:9', { workspace_id: workspace });
      const caller = await fx.world.number({ workspace_id: workspace, trunk_id: trunk.id, agent_id: agentRecord.id });
      return { agentId: agentRecord.id, caller: caller.phone_number };
    }
    const dialOut = (scenario: string, agentId: string, caller: string) =>
      runSippUac({ scenario, target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: `127.0.5.${agentSource++}`, service: '+442071234567', keys: { caller, agent_id: agentId }, timeoutMs: 20_000 });

    it('anchors an outbound call: the carrier and the agent each see only the anchor', async () => {
      const carrier = await startSippUas({ scenario: 'uas-carrier-answer', ip: freshAgentIp() });
      try {
        const { agentId, caller } = await outboundSetup(`sip:${carrier.ip}:${carrier.port}`, 'allowed');
        const agentCall = await dialOut('uac-agent-answered', agentId, caller);
        const ok = finalResponse(agentCall.messages)!;
        expect(ok.status).toBe(200);
        expect(mediaOf(ok.body).ip).toBe('127.0.0.1');
        expect(inRange(mediaOf(ok.body).port)).toBe(true);
        expect(ok.body).not.toContain(carrier.ip);
        const [invite] = receivedRequests(carrier.messages(), 'INVITE');
        expect(mediaOf(invite!.body)).toMatchObject({ ip: '127.0.0.1', proto: 'RTP/AVP' });
        expect(invite!.body).not.toMatch(/127\.0\.5\./);
      } finally {
        await carrier.stop();
      }
    });

    it('offers SDES to a carrier whose trunk requires SRTP, and refuses its plain RTP answer: 488 media_encryption_mismatch', async () => {
      const carrier = await startSippUas({ scenario: 'uas-carrier-answer', ip: freshAgentIp() });
      try {
        const { agentId, caller } = await outboundSetup(`sip:${carrier.ip}:${carrier.port}`, 'required');
        const agentCall = await dialOut('uac-agent-503', agentId, caller);
        const final = finalResponse(agentCall.messages);
        expect(final?.status).toBe(488);
        expect(header(final, 'X-Reject-Reason')).toBe('media_encryption_mismatch');
        const [invite] = receivedRequests(carrier.messages(), 'INVITE');
        expect(mediaOf(invite!.body).proto).toBe('RTP/SAVP');
        expect(invite!.body).toMatch(/a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/);
        await carrier.waitFor((m) => receivedRequests(m, 'BYE').length === 1, 5000);
      } finally {
        await carrier.stop();
      }
    });

    it('answers 503 media_unavailable within 500 ms while rtpengine is down, and anchors again once it is back', async () => {
      const a = await agent();
      try {
        const r = await fx.world.route({ agentUri: a.uas.uri });
        await rtp.kill();
        const refused = await call('uac-carrier-503', r.source, r.number.phone_number, {});
        const final = finalResponse(refused.messages);
        expect(final?.status).toBe(503);
        expect(header(final, 'X-Reject-Reason')).toBe('media_unavailable');
        expect(header(final, 'Retry-After')).toBeDefined();
        expect(traceMs(final) - traceMs(sentRequests(refused.messages, 'INVITE')[0])).toBeLessThan(500);
        expect(receivedRequests(a.uas.messages(), 'INVITE')).toHaveLength(0);
        await rtp.start();
        await waitUntil(() => fx.edge.app.metrics.mediaInstancesHealthy.get().then((g) => g.values[0]?.value === 1), { timeoutMs: 3000, what: 'rtpengine back in rotation' });
        const answered = await call('uac-carrier-media', r.source, r.number.phone_number, { ...PLAIN, rtp_port: '30998', hold: '200' });
        expect(finalResponse(answered.messages)?.status).toBe(200);
        expect(mediaOf(finalResponse(answered.messages)!.body).ip).toBe('127.0.0.1');
      } finally {
        await a.close();
      }
    });
  });
});
