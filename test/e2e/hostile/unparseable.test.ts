import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { buildRequest, newCallId, RawSipPeer, sendBurst, settled } from '../../helpers/rawSip.js';
import { useHostileEdge } from './support/edge.js';

const KEY = 'WVRoZXNlY3JldGtleW5vYm9keXNob3VsZHNlZTEyMzQ1Njc4';
const DIGEST = 'f00dfacec0ffee0123456789abcdef00';

/** An INVITE only drachtio-srf cannot read (two spaces after the method), carrying secrets and padding. */
function unreadable(via: string, callId: string, padTo = 0): string {
  const padding = Array.from({ length: Math.ceil(padTo / 100) }, (_, i) => `a=x-pad-${i}:${'p'.repeat(88)}`);
  const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`, ...padding, ''].join('\r\n');
  const headers: [string, string][] = [
    ['Proxy-Authorization', `Digest username="carrier", realm="sip-edge", nonce="abc", uri="sip:+15550001001@127.0.0.1", response="${DIGEST}"`],
    ['Content-Type', 'application/sdp'],
  ];
  return buildRequest({ method: 'INVITE', requestUri: 'sip:user:hunter2@127.0.0.1', via, callId, headers, body: sdp }).replace('INVITE sip:', 'INVITE  sip:');
}

/**
 * Issue 12, item 5: a message drachtio-server accepts but drachtio-srf cannot parse used to be
 * printed whole to stderr (digest response, SDP key) from any source, and then left unanswered.
 * Now: 400 where the edge may answer, a bounded log line (source, size, first line cut short,
 * a URI password masked), counted; a flood of them is dropped and counted, not logged line by line.
 */
describeE2E('hostile input: unparseable messages', () => {
  const fx = useHostileEdge({ sip: { hostile_log_lines_per_s: 5 } });
  let source: string;

  beforeAll(async () => {
    fx.log.captureConsole();
    source = (await fx.route()).source;
  });
  afterAll(() => fx.log.releaseConsole());

  it('answers 400 and logs the source, the size and a cut first line, never headers, body or password', async () => {
    const peer = await RawSipPeer.open(source);
    const callId = newCallId();
    const text = unreadable(peer.hostport, callId);
    await peer.send(text, fx.target.port);
    const final = await peer.finalResponse(callId, 3000);
    expect(final?.status).toBe(400);
    expect(final?.headers['x-reject-reason']).toEqual(['message_unparseable']);

    const lines = fx.log.lines.filter((l) => l.includes('unparseable SIP message')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    // size: what drachtio-server passed on (it adds received/rport to the Via)
    expect(lines[0]?.size).toBeGreaterThanOrEqual(Buffer.byteLength(text));
    expect(lines[0]?.size).toBeLessThan(Buffer.byteLength(text) + 64);
    expect(lines[0]).toMatchObject({ source, transport: 'udp', reason: 'message_unparseable', answered: true, firstLine: 'INVITE  sip:user:***@127.0.0.1 SIP/2.0' });
    const everything = fx.log.all();
    for (const secret of [KEY, DIGEST, 'hunter2', 'Proxy-Authorization', 'a=crypto']) expect(everything).not.toContain(secret);
    await peer.close();
  });

  it('200 unparseable 30 KB messages from a trunk: every one answered and counted, the log stays a few lines', async () => {
    const peer = await RawSipPeer.open(source);
    const logBefore = fx.log.all().length;
    const answeredBefore = (await fx.metric('sip_edge_unparseable_messages_total', { outcome: 'answered' })) ?? 0;
    const ids: string[] = [];
    await sendBurst(peer, fx.target.port, 200, 200, () => {
      const id = newCallId();
      ids.push(id);
      return unreadable(peer.hostport, id, 30_000);
    });
    const answered = (await settled(async () => (await fx.metric('sip_edge_unparseable_messages_total', { outcome: 'answered' })) ?? 0)) - answeredBefore;
    expect(answered).toBeGreaterThanOrEqual(195);
    expect(ids.filter((id) => peer.responsesTo(id).some((m) => m.status === 400)).length).toBe(answered);
    const logged = fx.log.all().slice(logBefore);
    // ~1 s of messages at 5 lines per second (and 6 MB sent): a few lines, not the messages
    expect(logged.split('\n').filter((l) => l.includes('unparseable SIP message')).length).toBeLessThanOrEqual(12);
    expect(logged.length).toBeLessThan(6_000);
    expect(logged).not.toContain(KEY);
    expect(await fx.metric('sip_edge_log_lines_suppressed_total', { kind: 'unparseable' })).toBeGreaterThan(150);
    await peer.close();
  });

  it('from an address that matches no trunk, past the flood rate: released without an answer', async () => {
    const peer = await RawSipPeer.open('127.0.0.203');
    const releasedBefore = (await fx.metric('sip_edge_unparseable_messages_total', { outcome: 'released' })) ?? 0;
    const ids = Array.from({ length: 40 }, () => newCallId());
    for (const id of ids) await peer.send(unreadable(peer.hostport, id), fx.target.port);
    const released = (await settled(async () => (await fx.metric('sip_edge_unparseable_messages_total', { outcome: 'released' })) ?? 0)) - releasedBefore;
    expect(released).toBeGreaterThanOrEqual(30);
    // the first few (the unknown-source burst) get what any unknown source gets: 403
    const finals = ids.map((id) => peer.responsesTo(id).find((m) => (m.status ?? 0) >= 200)?.status ?? null);
    expect(finals.filter((s) => s !== null).every((s) => s === 403)).toBe(true);
    expect(finals.filter((s) => s === null).length).toBe(released);
    expect(fx.log.all()).not.toContain(KEY);
    await peer.close();
  });
});
