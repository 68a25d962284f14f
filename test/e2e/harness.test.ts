import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { describeSipp } from '../helpers/drachtioServer.js';
import {
  CHECKED_AGENT_HEADERS,
  finalResponse,
  header,
  parseMessageTrace,
  parseStatsCsv,
  receivedRequests,
  receivedResponses,
  runSippUac,
  sentRequests,
  sentResponses,
  withSippUas,
} from '../helpers/sipp.js';
import { exampleSdpOffer, sendTlsInvite } from '../helpers/tlsClient.js';

/**
 * The harness itself, part 1: the trace parser and the SIPp scenarios against
 * each other (no drachtio). If these fail, no end-to-end result means anything.
 * Part 2 (real drachtio-server) is harness-drachtio.test.ts.
 */

const ROUTING_HEADERS: Record<(typeof CHECKED_AGENT_HEADERS)[number], string> = {
  'X-Workspace-Id': 'ws_harness',
  'X-Agent-Id': 'agt_harness',
  'X-Number-Id': 'num_harness',
  'X-Trunk-Id': 'trk_harness',
  'X-Original-Called': '(555) 000-1001',
  'X-Caller': '+15557654321',
};
const OFFER = exampleSdpOffer('127.0.0.1');

describe('SIPp trace parsing', () => {
  it('parses sent and received messages with headers and body', () => {
    const trace = [
      '----------------------------------------------- 2026-11-21 00:09:13.436856',
      'UDP message sent (120 bytes):',
      '',
      'INVITE sip:+15550001001@127.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-1',
      'i: abc@127.0.0.1',
      'X-Agent-Id: a',
      'X-Agent-Id: b',
      'Content-Length:   10',
      '',
      'v=0',
      'x=1',
      '',
      '----------------------------------------------- 2026-11-21 00:09:13.437069',
      'TCP message received [50] bytes :',
      '',
      'SIP/2.0 486 Busy Here',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ]
      .map((line) => (line.startsWith('---') || line.includes(' message ') ? line : `${line}\r`))
      .join('\n');
    const [invite, busy, ...rest] = parseMessageTrace(trace);
    expect(rest).toEqual([]);
    expect(invite).toMatchObject({ direction: 'sent', transport: 'UDP', method: 'INVITE', requestUri: 'sip:+15550001001@127.0.0.1:5060', body: 'v=0\r\nx=1\r\n' });
    expect(invite?.headers['call-id']).toEqual(['abc@127.0.0.1']);
    expect(invite?.headers['x-agent-id']).toEqual(['a', 'b']);
    expect(busy).toMatchObject({ direction: 'received', transport: 'TCP', status: 486, reason: 'Busy Here', body: '' });
    expect(finalResponse([invite!, busy!])?.status).toBe(486);
  });

  it('reads the cumulative counters of the last statistics line', () => {
    const csv = 'TotalCallCreated;SuccessfulCall(C);FailedCall(C);FailedRegexpHdrNotFound(C)\n0;0;0;0\n3;2;1;1\n';
    expect(parseStatsCsv(csv)).toMatchObject({ created: 3, successful: 2, failed: 1, raw: { 'FailedRegexpHdrNotFound(C)': '1' } });
  });
});

describeSipp('SIPp carrier scenarios against SIPp agent scenarios (no drachtio)', () => {
  it('answered call: uac-carrier-answered vs uas-agent-answer completes one call', async () => {
    await withSippUas({ scenario: 'uas-agent-answer', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-answered', target: `${uas.ip}:${uas.port}`, service: '+15550001001', keys: { hold: '100' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(uac.stats).toMatchObject({ successful: 1, failed: 0 });
      expect(finalResponse(uac.messages)?.status).toBe(200);
      expect(finalResponse(uac.messages, 'BYE')?.status).toBe(200);

      const agent = await uas.finished();
      expect(agent.exitCode).toBe(0);
      expect(agent.stats).toMatchObject({ successful: 1, failed: 0 });
      // How an end-to-end test reads what the agent received:
      const [invite] = receivedRequests(agent.messages, 'INVITE');
      expect(invite?.requestUri).toBe(`sip:+15550001001@${uas.ip}:${uas.port}`);
      expect(header(invite, 'X-Workspace-Id')).toBe('spoofed');
      expect(header(invite, 'P-Asserted-Identity')).toBe('<sip:+15557654321@127.0.0.1>');
      expect(header(invite, 'Identity')).toMatch(/;ppt=shaken$/);
      expect(invite?.body).toContain('m=audio');
      expect(receivedRequests(agent.messages, 'BYE')).toHaveLength(1);
    });
  });

  it('a carrier source address from 127.0.0.0/8 shows in Via and Contact', async () => {
    await withSippUas({ scenario: 'uas-agent-busy', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-486', target: `${uas.ip}:${uas.port}`, sourceIp: '127.0.0.7', service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      const [invite] = receivedRequests((await uas.finished()).messages, 'INVITE');
      expect(header(invite, 'Via')).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.7:\d+;branch=z9hG4bK/);
    });
  });

  it('busy agent: uac-carrier-486 sees exactly 486 and ACKs it', async () => {
    await withSippUas({ scenario: 'uas-agent-busy', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-486', target: `${uas.ip}:${uas.port}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(finalResponse(uac.messages)?.status).toBe(486);
      expect(sentRequests(uac.messages, 'ACK')).toHaveLength(1);
      expect((await uas.finished()).stats).toMatchObject({ successful: 1, failed: 0 });
    });
  });

  it('a rejection scenario fails (exit 1) when another final status arrives, and the trace says which', async () => {
    await withSippUas({ scenario: 'uas-agent-busy', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-403', target: `${uas.ip}:${uas.port}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode).toBe(1);
      expect(uac.stats?.failed).toBe(1);
      expect(finalResponse(uac.messages)?.status).toBe(486);
      expect(uac.errors).toMatch(/unexpected message/);
    });
  });

  it.each([
    ['uac-carrier-503', 'uas-agent-503', 503],
    ['uac-carrier-480', 'uas-agent-480', 480],
  ])('%s vs %s ends with %i', async (uacScenario, uasScenario, status) => {
    await withSippUas({ scenario: uasScenario, calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: uacScenario, target: `${uas.ip}:${uas.port}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(finalResponse(uac.messages)?.status).toBe(status);
    });
  });

  it('uas-agent-checks-headers fails the call when routing headers are missing, but still answers', async () => {
    await withSippUas({ scenario: 'uas-agent-checks-headers', calls: 1 }, async (uas) => {
      // The carrier scenario sends only spoofed X-Workspace-Id / X-Agent-Id.
      const uac = await runSippUac({ scenario: 'uac-carrier-answered', target: `${uas.ip}:${uas.port}`, service: '+15550001001', keys: { hold: '50' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      const agent = await uas.finished();
      expect(agent.exitCode).toBe(1);
      expect(agent.stats).toMatchObject({ successful: 0, failed: 1 });
      expect(agent.stats?.raw['FailedRegexpHdrNotFound(C)']).toBe('1');
      expect(agent.errors).toMatch(/header X-Number-Id: not found/);
    });
  });

  it('uas-agent-checks-headers passes when every routing header is present (TCP, raw client)', async () => {
    await withSippUas({ scenario: 'uas-agent-checks-headers', transport: 't1', calls: 1 }, async (uas) => {
      const result = await sendTlsInvite({
        tls: false,
        host: uas.ip,
        port: uas.port,
        requestUri: uas.uri,
        from: 'sip:+15557654321@127.0.0.1',
        to: 'sip:agent@127.0.0.1',
        sdp: OFFER,
        headers: ROUTING_HEADERS,
        timeoutMs: 10_000,
      });
      expect(result.status).toBe(200);
      expect(result.responses.map((r) => r.status)).toEqual([180, 200]);
      expect(result.byeResponse?.status).toBe(200);
      const agent = await uas.finished();
      expect(agent.errors).toBe('');
      expect(agent.stats).toMatchObject({ successful: 1, failed: 0 });
      const [invite] = receivedRequests(agent.messages, 'INVITE');
      for (const [name, value] of Object.entries(ROUTING_HEADERS)) expect(header(invite, name)).toBe(value);
    });
  });

  it('uas-agent-checks-headers fails when the carrier-supplied X-Workspace-Id reaches the agent', async () => {
    await withSippUas({ scenario: 'uas-agent-checks-headers', transport: 't1', calls: 1 }, async (uas) => {
      const result = await sendTlsInvite({
        tls: false,
        host: uas.ip,
        port: uas.port,
        requestUri: uas.uri,
        from: 'sip:+15557654321@127.0.0.1',
        to: 'sip:agent@127.0.0.1',
        sdp: OFFER,
        headers: { ...ROUTING_HEADERS, 'X-Workspace-Id': 'spoofed' },
      });
      expect(result.status).toBe(200);
      const agent = await uas.finished();
      expect(agent.stats).toMatchObject({ successful: 0, failed: 1 });
    });
  });

  it('cancel: uac-carrier-cancel vs uas-agent-noanswer gets 200 for CANCEL and 487 for INVITE', async () => {
    await withSippUas({ scenario: 'uas-agent-noanswer', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-cancel', target: `${uas.ip}:${uas.port}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(finalResponse(uac.messages)?.status).toBe(487);
      expect(finalResponse(uac.messages, 'CANCEL')?.status).toBe(200);
      const agent = await uas.finished();
      expect(agent.stats).toMatchObject({ successful: 1, failed: 0 });
      expect(sentResponses(agent.messages, 'INVITE').map((r) => r.status)).toEqual([180, 487]);
    });
  });

  it('agent hangs up: uac-carrier-bye-from-agent vs uas-agent-bye', async () => {
    await withSippUas({ scenario: 'uas-agent-bye', calls: 1, keys: { hold: '100' } }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-bye-from-agent', target: `${uas.ip}:${uas.port}`, service: '+15550001001', timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      const [bye] = receivedRequests(uac.messages, 'BYE');
      expect(bye?.requestUri).toMatch(/^sip:\+15557654321@127\.0\.0\.1:\d+;transport=UDP$/);
      expect((await uas.finished()).stats).toMatchObject({ successful: 1, failed: 0 });
    });
  });

  it('re-INVITE over TCP: uac-carrier-reinvite vs uas-agent-reinvite', async () => {
    await withSippUas({ scenario: 'uas-agent-reinvite', transport: 't1', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-reinvite', transport: 't1', target: `${uas.ip}:${uas.port}`, service: '+15550001001', keys: { hold: '50' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      const invites = receivedRequests((await uas.finished()).messages, 'INVITE');
      expect(invites).toHaveLength(2);
      expect(invites[1]?.body).toContain('a=sendonly');
      expect(invites.every((m) => m.transport === 'TCP')).toBe(true);
    });
  });

  it('late offer: the INVITE has no SDP, the ACK carries the answer', async () => {
    await withSippUas({ scenario: 'uas-agent-answer', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-late-offer-answered', target: `${uas.ip}:${uas.port}`, service: '+15550001001', keys: { hold: '50' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      expect(sentRequests(uac.messages, 'INVITE')[0]?.body).toBe('');
      expect(sentRequests(uac.messages, 'ACK')[0]?.body).toContain('m=audio');
    });
  });

  it('SRTP offer: RTP/SAVP with a=crypto reaches the agent', async () => {
    await withSippUas({ scenario: 'uas-agent-answer', calls: 1 }, async (uas) => {
      const uac = await runSippUac({ scenario: 'uac-carrier-srtp-answered', target: `${uas.ip}:${uas.port}`, service: '+15550001001', keys: { hold: '50' }, timeoutMs: 15_000 });
      expect(uac.exitCode, uac.errors).toBe(0);
      const [invite] = receivedRequests((await uas.finished()).messages, 'INVITE');
      expect(invite?.body).toMatch(/m=audio \d+ RTP\/SAVP /);
      expect(invite?.body).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
    });
  });

  it('silence: passes when nothing answers, fails when anything but 100 comes back', async () => {
    const sink = createSocket('udp4');
    let received = 0;
    sink.on('message', () => {
      received += 1;
    });
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    try {
      const quiet = await runSippUac({ scenario: 'uac-carrier-silence', target: `127.0.0.1:${sink.address().port}`, service: '+15550001001', keys: { silence: '300' }, timeoutMs: 15_000 });
      expect(received).toBe(1);
      expect(quiet.exitCode, quiet.errors).toBe(0);
      expect(receivedResponses(quiet.messages)).toEqual([]);
    } finally {
      sink.close();
    }
    await withSippUas({ scenario: 'uas-agent-noanswer' }, async (uas) => {
      const ringing = await runSippUac({ scenario: 'uac-carrier-silence', target: `${uas.ip}:${uas.port}`, service: '+15550001001', keys: { silence: '300' }, timeoutMs: 15_000 });
      expect(ringing.exitCode).toBe(1);
      expect(receivedResponses(ringing.messages).map((r) => r.status)).toContain(180);
    });
  });
});

