import { expect, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { header, receivedRequests, withSippUas } from '../../helpers/sipp.js';
import { exampleSdpOffer, sendTlsInvite } from '../../helpers/tlsClient.js';
import { useEdge } from '../support/fixture.js';

const CRLF = '\r\n';
/**
 * ISUP as SIP-I carriers put it beside the SDP: binary, with line feeds and bytes over 0x7f. No
 * NUL byte: drachtio-server's SIP stack answers 400 to any body holding one (pinned below).
 */
const ISUP = Buffer.from([0x01, 0x10, 0x49, 0x20, 0x01, 0x0a, 0x03, 0x02, 0x0a, 0x08, 0x83, 0x90, 0x55, 0x95, 0x12, 0x14, 0x0d, 0x0f]);

interface Part {
  readonly headers: readonly string[];
  readonly content: Buffer;
}

/** A multipart body as RFC 2046 writes it: optional preamble, parts, closing delimiter, epilogue. */
function multipart(boundary: string, parts: readonly Part[], preamble = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble ? `${preamble}${CRLF}` : '')];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}${CRLF}${part.headers.join(CRLF)}${CRLF}${CRLF}`), part.content, Buffer.from(CRLF));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

const sdpPart = (sdp: string): Part => ({ headers: ['Content-Type: application/sdp'], content: Buffer.from(sdp) });
const isupPart = (handling = 'optional'): Part => ({
  headers: ['Content-Type: application/ISUP;version=itu-t92+', `Content-Disposition: signal;handling=${handling}`],
  content: ISUP,
});

/**
 * INVITEs with multipart/mixed bodies (SDP beside ISUP, as SIP-I carriers send them) through a
 * real drachtio-server and the edge, from a raw TCP carrier on its own loopback address to a SIPp
 * agent: the SDP part is found, judged and bridged alone; bodies the edge cannot use get their
 * stable refusal.
 */
describeE2E('hostile input: multipart bodies', () => {
  const fx = useEdge();

  const invite = (source: string, e164: string, body: { contentType: string; bytes: Buffer }) =>
    sendTlsInvite({
      host: '127.0.0.1',
      port: fx.drachtio.sipPort,
      tls: false,
      localAddress: source,
      requestUri: `sip:${e164}@127.0.0.1:${fx.drachtio.sipPort};transport=tcp`,
      from: `sip:+15557654321@${source}`,
      to: `sip:${e164}@127.0.0.1`,
      body,
      timeoutMs: 15_000,
    });

  it('bridges SDP beside ISUP: 200 from the agent, which receives only the SDP as application/sdp', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { inbound: { transports: ['udp', 'tcp'] } } });
      const offer = exampleSdpOffer(r.source, 40_010);
      const body = multipart('unique-boundary-1', [sdpPart(offer), isupPart()], 'This is a preamble; it is ignored.');
      const answer = await invite(r.source, r.number.phone_number, { contentType: 'multipart/mixed; boundary="unique-boundary-1"', bytes: body });

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toEqual(['application/sdp']);
      expect(answer.body).toMatch(/^v=0\r\n/);
      expect(answer.byeResponse?.status).toBe(200);

      const [agentInvite, ...more] = receivedRequests(agent.messages(), 'INVITE');
      expect(more).toEqual([]);
      expect(header(agentInvite, 'Content-Type')).toBe('application/sdp');
      expect(agentInvite?.body).toBe(offer);
      expect(agentInvite?.raw).not.toMatch(/unique-boundary-1|isup|multipart/i);
      expect(header(agentInvite, 'X-Trunk-Id')).toBe(r.trunk.id);
    });
  });

  it('judges the SDP part against the trunk media policy (SRTP required, plain RTP inside multipart: 488)', async () => {
    const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9', trunk: { inbound: { transports: ['udp', 'tcp'], media_encryption: 'required' } } });
    const body = multipart('xyz', [isupPart(), sdpPart(exampleSdpOffer(r.source))]);
    const answer = await invite(r.source, r.number.phone_number, { contentType: 'multipart/mixed;boundary=xyz', bytes: body });
    expect(answer.status).toBe(488);
    expect(answer.headers['x-reject-reason']).toEqual(['srtp_required']);
  });

  it('cannot take a body with a NUL byte: drachtio-server answers 400 itself, the edge never sees it', async () => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { inbound: { transports: ['udp', 'tcp'] } } });
      const withNul: Part = { headers: ['Content-Type: application/isup'], content: Buffer.from([0x01, 0x00, 0x49]) };
      const answer = await invite(r.source, r.number.phone_number, { contentType: 'multipart/mixed;boundary=xyz', bytes: multipart('xyz', [sdpPart(exampleSdpOffer(r.source)), withNul]) });
      expect(answer.status).toBe(400);
      expect(answer.headers['x-reject-reason']).toBeUndefined();
      expect(receivedRequests(agent.messages(), 'INVITE')).toEqual([]);
    });
  });

  it.each([
    ['a multipart body without an SDP part', 'multipart/mixed;boundary=xyz', multipart('xyz', [isupPart()]), 488, 'sdp_part_missing', undefined],
    ['a truncated multipart body (no closing delimiter)', 'multipart/mixed;boundary=xyz', Buffer.from(`--xyz${CRLF}Content-Type: application/sdp${CRLF}${CRLF}v=0${CRLF}`), 400, 'body_malformed', undefined],
    ['a multipart body without a boundary parameter', 'multipart/mixed', multipart('xyz', [sdpPart('v=0\r\n')]), 400, 'body_malformed', undefined],
    ['an ISUP part marked handling=required', 'multipart/mixed;boundary=xyz', multipart('xyz', [sdpPart('v=0\r\n'), isupPart('required')]), 415, 'body_unsupported', 'application/sdp, multipart/*'],
    ['a body that is neither SDP nor multipart', 'application/ISUP;version=itu-t92+', ISUP, 415, 'body_unsupported', 'application/sdp, multipart/*'],
  ])('refuses %s with a stable reason, the agent never rung', async (_what, contentType, bytes, status, reason, accept) => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { inbound: { transports: ['udp', 'tcp'] } } });
      const answer = await invite(r.source, r.number.phone_number, { contentType, bytes });
      expect(answer.status).toBe(status);
      expect(answer.headers['x-reject-reason']).toEqual([reason]);
      expect(answer.headers.reason).toEqual([`SIP;cause=${status};text="${reason}"`]);
      expect(answer.headers.accept).toEqual(accept === undefined ? undefined : [accept]);
      expect(receivedRequests(agent.messages(), 'INVITE')).toEqual([]);
    });
  });

  it('explains a multipart refusal in the route-test dry run (content_type beside sdp)', async () => {
    const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9' });
    const ask = (content_type: string, sdp: string) =>
      fx.edge.api('/v1/route-test', { body: { source_ip: r.source, request_uri: `sip:${r.number.phone_number}@x`, content_type, sdp } });
    const refused = await ask('multipart/mixed;boundary=xyz', multipart('xyz', [isupPart()]).toString('latin1'));
    expect(refused.body).toMatchObject({ decision: 'reject', step: 'media', reason: 'sdp_part_missing', status: 488 });
    const accepted = await ask('multipart/mixed;boundary=xyz', multipart('xyz', [isupPart(), sdpPart(exampleSdpOffer(r.source))]).toString('latin1'));
    expect(accepted.body).toMatchObject({ decision: 'accept', step: 'bridge' });
  });
});
