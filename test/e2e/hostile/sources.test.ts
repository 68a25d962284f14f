import { expect, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { buildRequest, newCallId, RawSipPeer, sendBurst, settled } from '../../helpers/rawSip.js';
import { useHostileEdge } from './support/edge.js';

/**
 * Issue 12, items 2 and 8: requests the edge drops (a flood from an address that matches no
 * trunk, scanners) get no answer and leave nothing behind in drachtio-srf; the scanner list and
 * the flood guard hold for every method, not only INVITE.
 */
describeE2E('hostile sources: drops release everything, every method is guarded', () => {
  const fx = useHostileEdge();

  const invitesSeen = async (): Promise<number> =>
    ((await fx.metric('sip_edge_invites_total', { direction: 'inbound', outcome: 'dropped' })) ?? 0) +
    ((await fx.metric('sip_edge_invites_total', { direction: 'inbound', outcome: 'rejected' })) ?? 0);

  it('a flood of 3,000 dropped INVITEs leaves no INVITE pending in drachtio-srf', async () => {
    const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9' });
    const flooder = await RawSipPeer.open('127.0.0.201'); // matches no trunk: the flood guard drops past 5/s
    const scanner = await RawSipPeer.open(r.source); // a trunk's address, but a scanner's User-Agent
    const before = await invitesSeen();
    const invite = (peer: RawSipPeer, ua?: string) => () =>
      buildRequest({ method: 'INVITE', requestUri: `sip:${r.number.phone_number}@127.0.0.1`, via: peer.hostport, headers: ua ? [['User-Agent', ua]] : [] });
    await Promise.all([
      sendBurst(flooder, fx.target.port, 2000, 1000, invite(flooder)),
      sendBurst(scanner, fx.target.port, 1000, 500, invite(scanner, 'friendly-scanner')),
    ]);
    const seen = (await settled(invitesSeen)) - before;
    expect(seen).toBeGreaterThanOrEqual(2850); // UDP on loopback may lose a few under a burst
    const dropped = (await fx.metric('sip_edge_rejections_total', { reason: 'source_flood' })) ?? 0;
    expect(dropped).toBeGreaterThan(1900);
    expect(await fx.metric('sip_edge_rejections_total', { reason: 'scanner' })).toBeGreaterThanOrEqual(950);
    // drachtio-srf keeps an INVITE in its table until a final response: dropped ones are released at once
    expect(await fx.metric('sip_edge_pending_invites')).toBe(0);
    // the scanner heard nothing but drachtio's own 100 Trying; the flooder only its first few 403s
    expect(scanner.messages().filter((m) => (m.status ?? 0) >= 200)).toHaveLength(0);
    const answeredCalls = new Set(flooder.messages().filter((m) => (m.status ?? 0) >= 200).map((m) => m.headers['call-id']?.[0]));
    expect(answeredCalls.size).toBeLessThanOrEqual(15); // 5/s for the ~2 s of the burst, plus the bucket
    await Promise.all([flooder.close(), scanner.close()]);
  });

  it.each(['OPTIONS', 'REGISTER', 'SUBSCRIBE', 'MESSAGE'])('a scanner %s from a trunk address gets no answer', async (method) => {
    const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9' });
    const peer = await RawSipPeer.open(r.source);
    const callId = newCallId();
    await peer.send(buildRequest({ method, requestUri: 'sip:127.0.0.1', via: peer.hostport, callId, headers: [['User-Agent', 'sipvicious']] }), fx.target.port);
    expect(await peer.finalResponse(callId, 1500)).toBeNull();
    expect(peer.responsesTo(callId)).toHaveLength(0);
    // the same request without the scanner's User-Agent is answered: the silence above was the scanner rule
    const plain = newCallId();
    await peer.send(buildRequest({ method, requestUri: 'sip:127.0.0.1', via: peer.hostport, callId: plain }), fx.target.port);
    expect((await peer.finalResponse(plain, 3000))?.status).toBe(method === 'OPTIONS' ? 200 : 405);
    await peer.close();
  });

  it('the flood guard counts every method: once over the rate, OPTIONS and REGISTER get nothing either', async () => {
    const peer = await RawSipPeer.open('127.0.0.202'); // matches no trunk
    const ids = Array.from({ length: 30 }, () => newCallId());
    const methods = ['OPTIONS', 'REGISTER', 'INVITE'];
    for (let i = 0; i < ids.length; i++) {
      await peer.send(buildRequest({ method: methods[i % 3]!, requestUri: 'sip:+15550001001@127.0.0.1', via: peer.hostport, callId: ids[i] }), fx.target.port);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const finals = ids.map((id) => peer.responsesTo(id).find((m) => (m.status ?? 0) >= 200)?.status ?? null);
    const answered = finals.filter((s) => s !== null);
    // a burst of 5 (the default rate per second) is answered 403 unknown_source, whatever the method; the rest is silence
    expect(answered.length).toBeGreaterThanOrEqual(5);
    expect(answered.length).toBeLessThanOrEqual(7);
    expect(new Set(answered)).toEqual(new Set([403]));
    expect(finals.slice(-10).every((s) => s === null)).toBe(true);
    await peer.close();
  });
});
