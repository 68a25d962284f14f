import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parse } from 'sdp-transform';
import { issueToken } from '../../src/browser/token.js';
import { describeE2E } from '../helpers/drachtioServer.js';
import { describeRtpengine, startRtpengine, type Rtpengine } from '../helpers/rtpengine.js';
import { finalResponse, header, receivedRequests, runSippUac, sentRequests, startSippUas, type SippUas } from '../helpers/sipp.js';
import { webrtcOffer, WsSipClient } from '../helpers/wsSip.js';
import { ofCall, readBillingEvents } from './support/billingStream.js';
import { useEdge } from './support/fixture.js';

const SECRET = 'e2e-test-call-secret-0123456789abcdef';
let agentHost = 10;
const freshAgentIp = (): string => `127.0.6.${agentHost++}`;

/**
 * Browser test calls over the browser entry without a browser: a SIP-over-WebSocket client that
 * sends what a browser's SIP stack sends (a WebRTC offer, the token header). The real-browser
 * test is test/e2e/browser.test.ts; this one pins every refusal and the call's accounting.
 */
describeE2E('browser test calls (SIP over WebSocket)', () => {
  describeRtpengine('with rtpengine', () => {
    let rtp: Rtpengine;
    beforeAll(async () => {
      rtp = await startRtpengine();
    });
    afterAll(async () => {
      await rtp?.stop();
    });
    const fx = useEdge(
      () => ({
        media: { anchor: 'always', rtpengine: [rtp.ng], command_timeout_ms: 500, ping_interval_ms: 250 },
        test_calls: { secret: SECRET, entry_ports: [fx.drachtio.wsPort!, fx.drachtio.wssPort!], ws_url: `wss://127.0.0.1:${fx.drachtio.wssPort}`, token_ttl_s: 120 },
      }),
      { drachtio: { ws: true, wss: true } },
    );

    const events = async (callId: string) => ofCall(await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix), callId);
    const connect = (secure = true) =>
      secure ? WsSipClient.connect(`wss://127.0.0.1:${fx.drachtio.wssPort}`, { insecure: true }) : WsSipClient.connect(`ws://127.0.0.1:${fx.drachtio.wsPort}`);

    async function agent(): Promise<SippUas> {
      return startSippUas({ scenario: 'uas-agent-media', ip: freshAgentIp(), keys: { rtp_port: '31990', reinvite_dir: 'sendrecv' } });
    }

    async function grant(body: Record<string, string>): Promise<{ token: string; token_id: string; ws_url: string; sip_uri: string }> {
      const res = await fx.edge.api('/v1/test-calls', { body });
      expect(res.status).toBe(201);
      return res.body;
    }

    async function refusedWith(headers: Record<string, string>, secure = true) {
      const client = await connect(secure);
      try {
        const call = await client.invite({ headers, sdp: webrtcOffer() });
        const final = await client.finalResponse(call);
        return { final, callId: call.callId };
      } finally {
        client.close();
      }
    }

    it('refuses an INVITE without a token, with a forged one and with an expired one, with their reasons', async () => {
      const none = await refusedWith({});
      expect(none.final?.status).toBe(403);
      expect(header(none.final!, 'X-Reject-Reason')).toBe('test_call_token_invalid');
      expect(header(none.final!, 'Reason')).toMatch(/test_call_token_invalid/);

      const forged = issueToken('another-secret-of-at-least-32-chars!!', { workspaceId: 'ws_1', target: { kind: 'agent', id: 'agt_x' }, ttlS: 60, nowMs: Date.now() }).token;
      const bad = await refusedWith({ 'X-Test-Call-Token': forged }, false);
      expect(bad.final?.status).toBe(403);
      expect(header(bad.final!, 'X-Reject-Reason')).toBe('test_call_token_invalid');

      const expired = issueToken(SECRET, { workspaceId: 'ws_1', target: { kind: 'agent', id: 'agt_x' }, ttlS: 60, nowMs: Date.now() - 61_000 }).token;
      const late = await refusedWith({ 'X-Test-Call-Token': expired });
      expect(late.final?.status).toBe(403);
      expect(header(late.final!, 'X-Reject-Reason')).toBe('test_call_token_expired');

      // a refusal of one of our tokens is accounted on the browser entry (call.rejected); an INVITE
      // without a token of ours is anonymous, like an unknown source's: no billing event
      await expect.poll(async () => (await events(late.callId)).map((e) => [e.type, e.reason, e.trunk_id]), { timeout: 3000 }).toEqual([['call.rejected', 'test_call_token_expired', '@browser']]);
      expect(await events(none.callId)).toEqual([]);
      expect(await events(bad.callId)).toEqual([]);
    });

    it('bridges a token for a number to its agent through the anchor: WebRTC to the browser, plain RTP to the agent, X-Test-Call, billed as browser_test; the token never works twice', async () => {
      const uas = await agent();
      const client = await connect();
      try {
        const a = await fx.world.agent(uas.uri);
        const number = await fx.world.number({ inbound_routing: { agent_id: a.id } });
        const g = await grant({ workspace_id: number.workspace_id, number_id: number.id });
        expect(g.ws_url).toBe(`wss://127.0.0.1:${fx.drachtio.wssPort}`);

        const call = await client.invite({ requestUri: g.sip_uri, headers: { 'X-Test-Call-Token': g.token }, sdp: webrtcOffer(40999) });
        const ok = await client.finalResponse(call);
        expect(ok?.status).toBe(200);
        await client.ack(call, ok!);

        // the browser gets ICE, DTLS-SRTP, SAVPF and rtcp-mux from the anchor, nothing of the agent
        const answer = parse(ok!.body);
        const m = answer.media[0]!;
        expect(m.protocol).toBe('UDP/TLS/RTP/SAVPF');
        expect(m.rtcpMux).toBe('rtcp-mux');
        expect(m.iceUfrag ?? answer.iceUfrag).toBeTruthy();
        expect(m.fingerprint ?? answer.fingerprint).toBeTruthy();
        expect(m.candidates?.every((c) => c.ip === '127.0.0.1' && c.port >= rtp.portMin && c.port <= rtp.portMax)).toBe(true);
        expect(ok!.body).not.toContain('agent-secret');

        // the agent gets plain RTP from the anchor, no WebRTC attributes, and the test-call headers
        const [invite] = receivedRequests(uas.messages(), 'INVITE');
        const offer = parse(invite!.body);
        expect(offer.media[0]!.protocol).toBe('RTP/AVP');
        expect(invite!.body).not.toMatch(/a=(ice-|candidate|fingerprint|rtcp-mux|extmap|setup)/);
        expect(offer.media[0]!.rtp.map((r) => r.codec)).toEqual(expect.arrayContaining(['opus', 'PCMU']));
        expect(header(invite!, 'X-Test-Call')).toBe('true');
        expect(header(invite!, 'X-Workspace-Id')).toBe(number.workspace_id);
        expect(header(invite!, 'X-Number-Id')).toBe(number.id);
        expect(header(invite!, 'X-Agent-Id')).toBe(a.id);
        expect(header(invite!, 'X-Original-Called')).toBe(number.phone_number);
        expect(header(invite!, 'X-Trunk-Id')).toBe('@browser');
        expect(header(invite!, 'X-Test-Call-Token')).toBeUndefined();

        await new Promise((r) => setTimeout(r, 1300));
        expect((await client.bye(call, ok!))?.status).toBe(200);

        await expect.poll(async () => (await events(call.callId)).map((e) => e.type), { timeout: 4000 }).toContain('call.ended');
        const all = await events(call.callId);
        for (const e of all) {
          expect(e.browser_test).toBe(true);
          expect(e.trunk_id).toBe('@browser');
          expect(e.plan?.id).toBe('actual_1/1');
        }
        const answered = all.find((e) => e.type === 'call.answered')!;
        const ended = all.find((e) => e.type === 'call.ended')!;
        // no first minute: 1 s committed at answer, the actual duration at the end
        expect(answered.billable_s).toBe(1);
        expect(ended.duration_ms).toBeGreaterThanOrEqual(1300);
        expect(ended.duration_ms).toBeLessThan(10_000);
        expect(ended.billable_s).toBe(Math.ceil((ended.duration_ms as number) / 1000));

        // the same token again, on the other browser listener: used
        const again = await refusedWith({ 'X-Test-Call-Token': g.token }, false);
        expect(again.final?.status).toBe(403);
        expect(header(again.final!, 'X-Reject-Reason')).toBe('test_call_token_used');
      } finally {
        client.close();
        await uas.stop();
      }
    });

    it('calls an agent directly with an agent token; a browser offering Opus only is transcoded to the agent\'s PCMU', async () => {
      const uas = await agent();
      const client = await connect(false);
      try {
        const a = await fx.world.agent(uas.uri);
        const g = await grant({ workspace_id: a.workspace_id, agent_id: a.id });
        const call = await client.invite({ requestUri: g.sip_uri, headers: { 'X-Test-Call-Token': g.token }, sdp: webrtcOffer(40997, 'opus') });
        const ok = await client.finalResponse(call);
        expect(ok?.status).toBe(200);
        await client.ack(call, ok!);
        const [invite] = receivedRequests(uas.messages(), 'INVITE');
        // the anchor offered PCMU besides the browser's Opus; the agent took PCMU, the browser keeps Opus
        expect(parse(invite!.body).media[0]!.rtp.map((r) => r.codec)).toEqual(['opus', 'PCMU', 'PCMA']);
        expect(parse(ok!.body).media[0]!.rtp.map((r) => r.codec)).toEqual(['opus']);
        expect(header(invite!, 'X-Agent-Id')).toBe(a.id);
        expect(header(invite!, 'X-Number-Id')).toBeUndefined();
        expect(header(invite!, 'X-Test-Call')).toBe('true');
        expect((await client.bye(call, ok!))?.status).toBe(200);
        await expect.poll(async () => (await events(call.callId)).find((e) => e.type === 'call.ended')?.browser_test, { timeout: 4000 }).toBe(true);
      } finally {
        client.close();
        await uas.stop();
      }
    });

    it('carries the agent\'s 180 (with a Contact on the WebSocket transport) and the agent\'s BYE to the browser over its WebSocket', async () => {
      const uas = await startSippUas({ scenario: 'uas-agent-bye', ip: freshAgentIp(), keys: { hold: '600' } });
      const client = await connect();
      try {
        const a = await fx.world.agent(uas.uri);
        const g = await grant({ workspace_id: a.workspace_id, agent_id: a.id });
        const call = await client.invite({ requestUri: g.sip_uri, headers: { 'X-Test-Call-Token': g.token }, sdp: webrtcOffer(40993) });
        const ok = await client.finalResponse(call);
        expect(ok?.status).toBe(200);
        await client.ack(call, ok!);
        const ringing = client.messages().find((m) => m.status === 180 && m.headers['call-id']?.[0] === call.callId);
        expect(ringing?.headers.contact?.[0]).toMatch(new RegExp(`^<sips?:127\\.0\\.0\\.1:${fx.drachtio.wssPort};transport=wss>$`));
        // the agent hangs up: its BYE reaches the browser on the connection the call came in on
        const bye = await client.request(call, 'BYE', 10_000);
        expect(bye).not.toBeNull();
        await expect.poll(async () => (await events(call.callId)).find((e) => e.type === 'call.ended')?.end_cause, { timeout: 4000 }).toBe('callee_hangup');
      } finally {
        client.close();
        await uas.stop();
      }
    });

    it('never takes a token on a carrier entry: X-Test-Call and the token from a trunk make a carrier call, and the token stays unspent', async () => {
      const uas = await agent();
      const client = await connect();
      try {
        const r = await fx.world.route({ agentUri: uas.uri });
        const g = await grant({ workspace_id: r.number.workspace_id, number_id: r.number.id });
        const carrier = await runSippUac({
          scenario: 'uac-carrier-forged-test-call',
          target: `127.0.0.1:${fx.drachtio.sipPort}`,
          sourceIp: r.source,
          service: r.number.phone_number,
          keys: { caller: '+15557654321', hold: '200', token: g.token },
          timeoutMs: 20_000,
        });
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const [invite] = receivedRequests(uas.messages(), 'INVITE');
        expect(header(invite!, 'X-Test-Call')).toBeUndefined();
        expect(header(invite!, 'X-Test-Call-Token')).toBeUndefined();
        expect(header(invite!, 'X-Trunk-Id')).toBe(r.trunk.id);
        const callId = header(sentRequests(carrier.messages, 'INVITE')[0], 'Call-ID')!;
        await expect.poll(async () => (await events(callId)).find((e) => e.type === 'call.ended')?.plan?.id, { timeout: 4000 }).toBe('first_minute_60/1');
        expect((await events(callId)).every((e) => e.browser_test === false && e.trunk_id === r.trunk.id)).toBe(true);

        // the token was not spent by the carrier's call: it still works, once, on the browser entry
        const call = await client.invite({ requestUri: g.sip_uri, headers: { 'X-Test-Call-Token': g.token }, sdp: webrtcOffer(40995) });
        const ok = await client.finalResponse(call);
        expect(ok?.status).toBe(200);
        await client.ack(call, ok!);
        expect((await client.bye(call, ok!))?.status).toBe(200);
      } finally {
        client.close();
        await uas.stop();
      }
    });
  });
});
