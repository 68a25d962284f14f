import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { digestResponse } from '../../src/domain/digest.js';
import { describeE2E, startDrachtio, type DrachtioServer } from '../helpers/drachtioServer.js';
import { finalResponse, header, receivedRequests, runSippUac, startSippUas, withSippUas, type SippUas } from '../helpers/sipp.js';
import { exampleSdpOffer, sendTlsInvite } from '../helpers/tlsClient.js';
import { startEdge, type RunningEdge } from './support/edge.js';
import { World } from './support/world.js';

/**
 * Every outcome of BRIEF "Inbound call" through a real drachtio-server, the real edge, Redis and
 * SIPp carriers/agents on loopback. Each test sets up its own trunk (own source address), agent
 * and number, so tests are independent.
 */
describeE2E('inbound calls end to end', () => {
  let drachtio: DrachtioServer;
  let edge: RunningEdge;
  let world: World;
  let voicemail: SippUas;

  beforeAll(async () => {
    drachtio = await startDrachtio({ tls: true });
    voicemail = await startSippUas({ scenario: 'uas-agent-answer', user: 'voicemail' });
    edge = await startEdge(drachtio, inject('redisUrl'), { sip: { ring_timeout_s: 2, voicemail_uri: voicemail.uri } });
    world = new World(edge);
  });
  afterAll(async () => {
    await edge?.stop();
    await voicemail?.stop();
    await drachtio?.stop();
  });

  const target = (): string => `127.0.0.1:${drachtio.sipPort}`;
  const call = (scenario: string, source: string, service: string, keys: Record<string, string> = {}) =>
    runSippUac({ scenario, target: target(), sourceIp: source, service, keys, timeoutMs: 20_000 });

  it('bridges an answered call to the agent with the routing headers, carrier X- headers stripped', async () => {
    await withSippUas({ scenario: 'uas-agent-checks-headers' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri });
      const carrier = await call('uac-carrier-answered', r.source, r.number.phone_number.replace('+', ''));
      expect(carrier.exitCode).toBe(0);
      expect(finalResponse(carrier.messages)?.status).toBe(200);

      const [invite] = receivedRequests(agent.messages(), 'INVITE');
      expect(header(invite, 'X-Workspace-Id')).toBe(r.number.workspace_id);
      expect(header(invite, 'X-Agent-Id')).toBe(r.agent.id);
      expect(header(invite, 'X-Number-Id')).toBe(r.number.id);
      expect(header(invite, 'X-Trunk-Id')).toBe(r.trunk.id);
      expect(header(invite, 'X-Original-Called')).toBe(r.number.phone_number.replace('+', ''));
      expect(header(invite, 'X-Caller')).toBe('+15557654321');
      // untrusted trunk: no identity headers pass
      expect(header(invite, 'P-Asserted-Identity')).toBeUndefined();
      expect(header(invite, 'Identity')).toBeUndefined();
      expect(receivedRequests(agent.messages(), 'BYE')).toHaveLength(1);
      const stopped = await agent.stop();
      expect(stopped.errors).not.toMatch(/regexp|header/i);
    });
  });

  it('forwards P-Asserted-Identity and Identity only from a trusted trunk', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri, trunk: { inbound: { trusted_identity: true } } });
      const carrier = await call('uac-carrier-answered', r.source, r.number.phone_number);
      expect(finalResponse(carrier.messages)?.status).toBe(200);
      const [invite] = receivedRequests(agent.messages(), 'INVITE');
      expect(header(invite, 'P-Asserted-Identity')).toMatch(/^<sip:\+15557654321@/);
      expect(header(invite, 'Identity')).toMatch(/;ppt=shaken$/);
    });
  });

  it.each([
    ['unknown source address', 'unknown_source', 403],
  ])('refuses a call from an %s', async (_what, reason, status) => {
    const carrier = await call(`uac-carrier-${status}`, '127.0.0.250', '15550009999');
    const final = finalResponse(carrier.messages);
    expect(final?.status).toBe(status);
    expect(header(final, 'X-Reject-Reason')).toBe(reason);
    expect(header(final, 'Reason')).toBe(`SIP;cause=${status};text="${reason}"`);
  });

  it.each([
    ['unknown number', 404, 'number_not_found', null],
    ['released number', 404, 'number_released', { status: 'released' }],
    ['outbound-only number', 404, 'number_outbound_only', { inbound_routing: null }],
    ['number still provisioning', 480, 'number_provisioning', { status: 'provisioning' }],
    ['suspended number', 403, 'number_suspended', { status: 'suspended' }],
  ] as const)('answers a call to an %s with %i %s', async (_what, status, reason, numberOverrides) => {
    const r = await world.route({ agentUri: 'sip:agent@127.0.0.1:9', number: numberOverrides ?? {} });
    const dialled = numberOverrides === null ? '+15559990000' : r.number.phone_number;
    const carrier = await call(`uac-carrier-${status}`, r.source, dialled);
    const final = finalResponse(carrier.messages);
    expect(final?.status).toBe(status);
    expect(header(final, 'X-Reject-Reason')).toBe(reason);
    if (reason === 'number_suspended') expect(final?.reason).toMatch(/suspended/i);
  });

  it("refuses a number of another workspace on a workspace's own trunk with 403", async () => {
    const r = await world.route({ agentUri: 'sip:agent@127.0.0.1:9', trunk: { kind: 'managed', workspace_id: 'ws_other' } });
    const carrier = await call('uac-carrier-403', r.source, r.number.phone_number);
    const final = finalResponse(carrier.messages);
    expect(final?.status).toBe(403);
    expect(header(final, 'X-Reject-Reason')).toBe('number_wrong_workspace');
  });

  it('refuses UDP on a TLS-only trunk and takes the same call over TLS', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri, trunk: { inbound: { transports: ['tls'] } } });
      const overUdp = await call('uac-carrier-403', r.source, r.number.phone_number);
      expect(header(finalResponse(overUdp.messages), 'X-Reject-Reason')).toBe('transport_not_allowed');
      // A TLS client bound to the trunk's source address.
      const overTls = await sendTlsInvite({
        host: '127.0.0.1',
        port: drachtio.tlsPort!,
        localAddress: r.source,
        requestUri: `sip:${r.number.phone_number}@127.0.0.1:${drachtio.tlsPort};transport=tls`,
        from: 'sip:+15557654321@carrier.example',
        to: `sip:${r.number.phone_number}@127.0.0.1`,
        sdp: exampleSdpOffer(r.source),
      });
      expect(overTls.status).toBe(200);
      expect(overTls.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
      expect(receivedRequests(agent.messages(), 'INVITE')).toHaveLength(1);
    });
  });

  it('refuses a sips: Request-URI that did not arrive over TLS', async () => {
    const r = await world.route({ agentUri: 'sip:agent@127.0.0.1:9', trunk: { inbound: { transports: ['tcp', 'tls'] } } });
    const res = await sendTlsInvite({
      tls: false,
      host: '127.0.0.1',
      port: drachtio.sipPort,
      localAddress: r.source,
      requestUri: `sips:${r.number.phone_number}@127.0.0.1:${drachtio.sipPort}`,
      from: 'sip:+15557654321@carrier.example',
      to: `sip:${r.number.phone_number}@127.0.0.1`,
      sdp: exampleSdpOffer(r.source),
    });
    expect(res.status).toBe(403);
    expect(res.headers['x-reject-reason']).toEqual(['sips_requires_tls']);
  });

  it('requires SRTP where the trunk says so: RTP offer 488 with Warning, SRTP offer bridged', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri, trunk: { inbound: { media_encryption: 'required' } } });
      const plain = await call('uac-carrier-488', r.source, r.number.phone_number);
      const final = finalResponse(plain.messages);
      expect(final?.status).toBe(488);
      expect(header(final, 'X-Reject-Reason')).toBe('srtp_required');
      expect(header(final, 'Warning')).toMatch(/^(305|399) /);
      const secure = await call('uac-carrier-srtp-answered', r.source, r.number.phone_number);
      expect(finalResponse(secure.messages)?.status).toBe(200);
    });
  });

  it('refuses an SRTP-only offer on a trunk with media encryption disabled', async () => {
    const r = await world.route({ agentUri: 'sip:agent@127.0.0.1:9', trunk: { inbound: { media_encryption: 'disabled' } } });
    const carrier = await call('uac-carrier-srtp-488', r.source, r.number.phone_number);
    const final = finalResponse(carrier.messages);
    expect(final?.status).toBe(488);
    expect(header(final, 'X-Reject-Reason')).toBe('srtp_not_allowed');
    expect(header(final, 'Warning')).toMatch(/^(305|399) /);
  });

  it('takes the DID from To when the Request-URI has no user, and bridges a late offer', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({ agentUri: agent.uri, trunk: { inbound: { transports: ['tcp'] } } });
      const res = await sendTlsInvite({
        tls: false,
        host: '127.0.0.1',
        port: drachtio.sipPort,
        localAddress: r.source,
        requestUri: `sip:127.0.0.1:${drachtio.sipPort};transport=tcp`,
        from: 'sip:15557654321@carrier.example',
        to: `"Sales" <sip:1 (${r.number.phone_number.slice(2, 5)}) ${r.number.phone_number.slice(5)}@carrier.example>`,
        sdp: exampleSdpOffer(r.source),
      });
      expect(res.status).toBe(200);
      const [invite] = receivedRequests(agent.messages(), 'INVITE');
      expect(header(invite, 'X-Number-Id')).toBe(r.number.id);
      expect(header(invite, 'X-Caller')).toBe('+15557654321');
    });
  });

  it('challenges a trunk with inbound credentials (407) and accepts the digest answer', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await world.route({
        agentUri: agent.uri,
        trunk: { inbound: { transports: ['tcp'], auth_username: 'carrier-a', auth_password: 'correct-horse-battery' } },
      });
      const invite = {
        tls: false,
        host: '127.0.0.1',
        port: drachtio.sipPort,
        localAddress: r.source,
        requestUri: `sip:${r.number.phone_number}@127.0.0.1:${drachtio.sipPort};transport=tcp`,
        from: 'sip:+15557654321@carrier.example',
        to: `sip:${r.number.phone_number}@127.0.0.1`,
        sdp: exampleSdpOffer(r.source),
      } as const;
      const challenged = await sendTlsInvite(invite);
      expect(challenged.status).toBe(407);
      const challenge = challenged.headers['proxy-authenticate']?.[0] ?? '';
      expect(challenge).toMatch(/^Digest realm="sip-edge", nonce="[^"]+"/);

      const wrong = await sendTlsInvite({ ...invite, headers: { 'Proxy-Authorization': digestResponse(challenge, 'INVITE', invite.requestUri, 'carrier-a', 'wrong') } });
      expect(wrong.status).toBe(403);
      expect(wrong.headers['x-reject-reason']).toEqual(['auth_failed']);

      const answered = await sendTlsInvite({
        ...invite,
        headers: { 'Proxy-Authorization': digestResponse(challenge, 'INVITE', invite.requestUri, 'carrier-a', 'correct-horse-battery') },
      });
      expect(answered.status).toBe(200);
    });
  });

  it('answers OPTIONS from a trunk with 200', async () => {
    const r = await world.route({ agentUri: 'sip:agent@127.0.0.1:9' });
    const carrier = await call('uac-carrier-options', r.source, 'ping');
    expect(finalResponse(carrier.messages, 'OPTIONS')?.status).toBe(200);
  });
});
