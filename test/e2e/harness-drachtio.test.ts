import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeE2E, startDrachtio, type DrachtioServer } from '../helpers/drachtioServer.js';
import { canConnect } from '../helpers/localProcess.js';
import { finalResponse, header, receivedRequests, receivedResponses, runSippUac, sentRequests, withSippUas } from '../helpers/sipp.js';
import { exampleSdpOffer, sendTlsInvite } from '../helpers/tlsClient.js';

/**
 * The harness itself, part 2: a real drachtio-server (start/stop/kill, UDP, TCP,
 * TLS) and every SIPp scenario through it with a bare drachtio-srf app (not the
 * edge). Skipped loudly when drachtio, sipp or redis-server is missing.
 */

const ROUTING_HEADERS: Record<string, string> = {
  'X-Workspace-Id': 'ws_harness',
  'X-Agent-Id': 'agt_harness',
  'X-Number-Id': 'num_harness',
  'X-Trunk-Id': 'trk_harness',
  'X-Original-Called': '+15550001001',
  'X-Caller': '+15557654321',
};
const OFFER = exampleSdpOffer('127.0.0.1');

describeE2E('drachtio-server harness', () => {
  describe('UDP/TCP', () => {
    let drachtio: DrachtioServer;
    beforeAll(async () => {
      drachtio = await startDrachtio();
    });
    afterAll(async () => {
      await drachtio?.dispose();
    });

    it('accepts admin connections, stops, and starts again on the same ports', async () => {
      expect(await canConnect('127.0.0.1', drachtio.adminPort)).toBe(true);
      expect(drachtio.pid()).not.toBeNull();
      await drachtio.stop();
      expect(drachtio.pid()).toBeNull();
      expect(await canConnect('127.0.0.1', drachtio.adminPort)).toBe(false);
      await drachtio.start();
      expect(await canConnect('127.0.0.1', drachtio.adminPort)).toBe(true);
      expect(await canConnect('127.0.0.1', drachtio.sipPort)).toBe(true);
    });

    it('survives kill() + start() (crash and recovery)', async () => {
      await drachtio.kill();
      expect(await canConnect('127.0.0.1', drachtio.adminPort)).toBe(false);
      await drachtio.start();
      expect(await canConnect('127.0.0.1', drachtio.adminPort)).toBe(true);
    });

    it.each(['u1', 't1'] as const)('answers a SIPp INVITE over %s from 127.0.0.5 with 100 then 503 when no app is connected', async (transport) => {
      const uac = await runSippUac({
        scenario: 'uac-carrier-503',
        target: `127.0.0.1:${drachtio.sipPort}`,
        transport,
        sourceIp: '127.0.0.5',
        service: '+15550001001',
        timeoutMs: 15_000,
      });
      expect(uac.exitCode, `${uac.errors}\n${drachtio.logTail()}`).toBe(0);
      expect(receivedResponses(uac.messages, 'INVITE').map((r) => r.status)).toEqual([100, 503]);
    });
  });

  describe('TLS', () => {
    let drachtio: DrachtioServer;
    beforeAll(async () => {
      drachtio = await startDrachtio({ tls: true });
    });
    afterAll(async () => {
      await drachtio?.dispose();
    });

    it('completes a TLS handshake with the self-signed certificate', async () => {
      expect(drachtio.tlsPort).toBeTypeOf('number');
      const { protocol, cert } = await new Promise<{ protocol: string | null; cert: PeerCertificate }>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: drachtio.tlsPort!, rejectUnauthorized: false }, () => {
          const result = { protocol: socket.getProtocol(), cert: socket.getPeerCertificate() };
          socket.destroy();
          resolve(result);
        });
        socket.once('error', reject);
        socket.setTimeout(5_000, () => reject(new Error('TLS handshake timed out')));
      });
      expect(protocol).toMatch(/^TLSv1\.[23]$/);
      expect(cert.subject?.CN).toBe('sip-edge-test');
    });

    it('sendTlsInvite gets a final response over TLS (503: no app connected) and over plain TCP', async () => {
      const common = { host: '127.0.0.1', from: 'sip:+15557654321@127.0.0.1', to: 'sip:+15550001001@127.0.0.1', sdp: OFFER, timeoutMs: 10_000 };
      const overTls = await sendTlsInvite({ ...common, port: drachtio.tlsPort!, requestUri: `sip:+15550001001@127.0.0.1:${drachtio.tlsPort};transport=tls` });
      expect(overTls.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
      expect(overTls.status).toBe(503);
      expect(overTls.headers.via?.[0]).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bK/);
      const overTcp = await sendTlsInvite({ ...common, tls: false, port: drachtio.sipPort, requestUri: `sip:+15550001001@127.0.0.1:${drachtio.sipPort};transport=tcp` });
      expect(overTcp.status).toBe(503);
      expect(overTcp.tlsProtocol).toBeUndefined();
    });
  });
});

/**
 * The scenarios through a real drachtio-server and a bare drachtio-srf app (not
 * the edge): proves they speak to drachtio correctly (its own 100 Trying, ACK
 * matching, CANCEL, in-dialog requests), so an edge test failing means the edge.
 */
describeE2E('SIPp scenarios through drachtio-server and a bare drachtio-srf app', () => {
  let drachtio: DrachtioServer;
  let srf: Srf;
  /** Where the bare B2BUA sends the next call. */
  let agentUri = '';
  /** What the app saw of the last INVITE. */
  let lastInvite: { source: string; protocol: string } | undefined;

  beforeAll(async () => {
    drachtio = await startDrachtio({ tls: true });
    srf = new Srf();
    const connected = new Promise<void>((resolve) => srf.once('connect', () => resolve()));
    srf.on('error', () => undefined);
    void srf.connect(drachtio.connectOptions);
    await connected;
    (srf as unknown as { options(handler: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void }).options((_req, res) => res.send(200));
    srf.invite((req, res) => {
      lastInvite = { source: req.source_address, protocol: req.protocol };
      // A three-digit dialled user asks for that rejection; anything else is bridged.
      const user = /^sips?:([^@;]+)@/.exec(req.uri)?.[1] ?? '';
      if (/^\d{3}$/.test(user)) {
        const status = Number(user);
        res.send(status, status === 407 ? { headers: { 'Proxy-Authenticate': 'Digest realm="sip-edge-test", nonce="harness", algorithm=MD5' } } : {});
        return;
      }
      srf
        .createB2BUA(req, res, agentUri, { localSdpB: req.body, headers: ROUTING_HEADERS })
        .then(({ uas, uac }) => {
          uas.on('destroy', () => uac.destroy());
          uac.on('destroy', () => uas.destroy());
          uas.on('modify', (modifyReq, modifyRes) => {
            void uac.modify(modifyReq.body).then((sdp) => modifyRes.send(200, { body: sdp }));
          });
        })
        .catch(() => undefined);
    });
  });

  afterAll(async () => {
    srf?.disconnect();
    await drachtio?.dispose();
  });

  it.each([
    ['uac-carrier-403', '403'],
    ['uac-carrier-404', '404'],
    ['uac-carrier-407', '407'],
    ['uac-carrier-480', '480'],
    ['uac-carrier-484', '484'],
    ['uac-carrier-486', '486'],
    ['uac-carrier-488', '488'],
    ['uac-carrier-503', '503'],
    ['uac-carrier-srtp-488', '488'],
  ])('%s passes when the app rejects with %s', async (scenario, status) => {
    const uac = await runSippUac({ scenario, target: `127.0.0.1:${drachtio.sipPort}`, service: status, timeoutMs: 15_000 });
    expect(uac.exitCode, `${uac.errors}\n${drachtio.logTail()}`).toBe(0);
    expect(receivedResponses(uac.messages, 'INVITE').map((r) => r.status)).toEqual([100, Number(status)]);
    expect(sentRequests(uac.messages, 'ACK')).toHaveLength(1);
  });

  it.each([
    ['u1', 'udp'],
    ['t1', 'tcp'],
  ] as const)('over %s the app sees the SIPp source address and protocol %s', async (transport, protocol) => {
    const uac = await runSippUac({ scenario: 'uac-carrier-403', transport, sourceIp: '127.0.0.9', target: `127.0.0.1:${drachtio.sipPort}`, service: '403', timeoutMs: 15_000 });
    expect(uac.exitCode, uac.errors).toBe(0);
    expect(lastInvite).toEqual({ source: '127.0.0.9', protocol });
  });

  it('over TLS (raw client) the app sees protocol tls; a bridged call is answered and hung up', async () => {
    const common = { host: '127.0.0.1', port: drachtio.tlsPort!, from: 'sip:+15557654321@127.0.0.1', to: 'sip:+15550001001@127.0.0.1', sdp: OFFER, timeoutMs: 10_000 };
    const rejected = await sendTlsInvite({ ...common, requestUri: `sip:403@127.0.0.1:${drachtio.tlsPort};transport=tls` });
    expect(rejected.status).toBe(403);
    expect(lastInvite).toEqual({ source: '127.0.0.1', protocol: 'tls' });
    await withSippUas({ scenario: 'uas-agent-answer', calls: 1 }, async (uas) => {
      agentUri = uas.uri;
      const answered = await sendTlsInvite({ ...common, requestUri: `sip:+15550001001@127.0.0.1:${drachtio.tlsPort};transport=tls` });
      expect(answered.responses.map((r) => r.status)).toEqual([100, 180, 200]);
      expect(answered.body).toContain('m=audio');
      expect(answered.byeResponse?.status).toBe(200);
      expect((await uas.finished()).stats).toMatchObject({ successful: 1, failed: 0 });
    });
  });

  it('uac-carrier-options gets 200', async () => {
    const uac = await runSippUac({ scenario: 'uac-carrier-options', target: `127.0.0.1:${drachtio.sipPort}`, service: '+15550001001', timeoutMs: 15_000 });
    expect(uac.exitCode, uac.errors).toBe(0);
    expect(finalResponse(uac.messages, 'OPTIONS')?.status).toBe(200);
  });

  it.each(['u1', 't1'] as const)('bridged over %s: the agent gets the routing headers and uas-agent-checks-headers passes', async (transport) => {
    await withSippUas({ scenario: 'uas-agent-checks-headers', transport, calls: 1 }, async (uas) => {
      agentUri = uas.uri;
      const uac = await runSippUac({ scenario: 'uac-carrier-answered', transport, target: `127.0.0.1:${drachtio.sipPort}`, service: '+15550001001', keys: { hold: '50' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      const agent = await uas.finished();
      expect(agent.errors).toBe('');
      expect(agent.stats).toMatchObject({ successful: 1, failed: 0 });
      const [invite] = receivedRequests(agent.messages, 'INVITE');
      expect(header(invite, 'X-Agent-Id')).toBe('agt_harness');
      // createB2BUA copies no carrier header by default: the spoofed ones never arrive.
      expect(invite?.headers['x-workspace-id']).toEqual(['ws_harness']);
      expect(header(invite, 'Identity')).toBeUndefined();
    });
  });

  it('bridged CANCEL: uac-carrier-cancel vs uas-agent-noanswer', async () => {
    await withSippUas({ scenario: 'uas-agent-noanswer', calls: 1 }, async (uas) => {
      agentUri = uas.uri;
      const uac = await runSippUac({ scenario: 'uac-carrier-cancel', target: `127.0.0.1:${drachtio.sipPort}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(finalResponse(uac.messages)?.status).toBe(487);
      const agent = await uas.finished();
      expect(agent.stats).toMatchObject({ successful: 1, failed: 0 });
      expect(receivedRequests(agent.messages, 'CANCEL')).toHaveLength(1);
    });
  });

  it('bridged BYE from the agent: uac-carrier-bye-from-agent vs uas-agent-bye', async () => {
    await withSippUas({ scenario: 'uas-agent-bye', calls: 1, keys: { hold: '100' } }, async (uas) => {
      agentUri = uas.uri;
      const uac = await runSippUac({ scenario: 'uac-carrier-bye-from-agent', target: `127.0.0.1:${drachtio.sipPort}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect((await uas.finished()).stats).toMatchObject({ successful: 1, failed: 0 });
    });
  });

  it('bridged re-INVITE and late offer', async () => {
    await withSippUas({ scenario: 'uas-agent-reinvite', calls: 1 }, async (uas) => {
      agentUri = uas.uri;
      const uac = await runSippUac({ scenario: 'uac-carrier-reinvite', target: `127.0.0.1:${drachtio.sipPort}`, service: '+15550001001', keys: { hold: '50' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(receivedRequests((await uas.finished()).messages, 'INVITE')[1]?.body).toContain('a=sendonly');
    });
  });

  it('busy agent relayed: uac-carrier-486 vs uas-agent-busy', async () => {
    await withSippUas({ scenario: 'uas-agent-busy', calls: 1 }, async (uas) => {
      agentUri = uas.uri;
      const uac = await runSippUac({ scenario: 'uac-carrier-486', target: `127.0.0.1:${drachtio.sipPort}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect((await uas.finished()).stats).toMatchObject({ successful: 1, failed: 0 });
    });
  });
});
