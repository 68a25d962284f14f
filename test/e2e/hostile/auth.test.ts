import { beforeAll, expect, it } from 'vitest';
import { digestResponse } from '../../../src/domain/digest.js';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { buildRequest, newCallId, RawSipPeer } from '../../helpers/rawSip.js';
import type { SipMessage } from '../../helpers/sipTrace.js';
import { useHostileEdge } from './support/edge.js';

const USER = 'carrier-a';
const PASSWORD = 'correct horse battery staple';
/** A number nobody registered: an INVITE that passed authentication is refused 404 number_not_found. */
const UNKNOWN = 'sip:+15559990000@127.0.0.1';
const WORDLIST = ['123456', 'password', 'carrier', 'sip-edge', 'letmein', 'qwerty', 'admin', 'secret'];

/**
 * Issue 12, item 7: digest passwords cannot be guessed at line rate. A source with 3 failed
 * digest answers (as configured here) gets no answer at all for the cool-off, whatever it sends;
 * other addresses of the trunk keep working. When one trunk collects 4 failures from different
 * addresses, each further failing address is dropped at its first failure.
 */
describeE2E('hostile input: digest brute force', () => {
  const fx = useHostileEdge({ sip: { auth_failure_limit: { per_source: 3, per_trunk: 4, window_s: 60, cooloff_s: 120 } } });
  let number: string;
  const uri = (): string => `sip:${number}@127.0.0.1`;

  beforeAll(async () => {
    // one trunk for 127.0.77.0/24: every test uses its own addresses of it
    number = (await fx.route({ cidr: '127.0.77.0/24', trunk: { inbound: { auth_username: USER, auth_password: PASSWORD } } })).number.phone_number;
  });

  /** One attempt as a SIP client makes it: INVITE, 407 with a challenge, INVITE with the answer. Returns the final responses seen. */
  async function attempt(peer: RawSipPeer, password: string, requestUri = uri()): Promise<{ challenge: SipMessage | null; answer: SipMessage | null }> {
    const uri = (): string => requestUri;
    const callId = newCallId();
    await peer.send(buildRequest({ method: 'INVITE', requestUri: uri(), via: peer.hostport, callId }), fx.target.port);
    const challenge = await peer.finalResponse(callId, 1500);
    if (challenge?.status !== 407) return { challenge, answer: null };
    const header = digestResponse(challenge.headers['proxy-authenticate']?.[0] ?? '', 'INVITE', uri(), USER, password);
    const second = newCallId();
    await peer.send(buildRequest({ method: 'INVITE', requestUri: uri(), via: peer.hostport, callId: second, cseq: 2, headers: [['Proxy-Authorization', header]] }), fx.target.port);
    return { challenge, answer: await peer.finalResponse(second, 1500) };
  }

  it('a wordlist from one address: 3 wrong answers get 403, then nothing, not even for the right password', async () => {
    const blocksBefore = (await fx.metric('sip_edge_auth_blocks_total', { scope: 'source' })) ?? 0;
    const attacker = await RawSipPeer.open('127.0.77.10');
    const results = [];
    for (const word of WORDLIST.slice(0, 5)) results.push(await attempt(attacker, word));
    expect(results.slice(0, 3).map((r) => [r.challenge?.status, r.answer?.status, r.answer?.headers['x-reject-reason']?.[0]])).toEqual([
      [407, 403, 'auth_failed'],
      [407, 403, 'auth_failed'],
      [407, 403, 'auth_failed'],
    ]);
    // the cool-off: no challenge, no answer at all
    expect(results.slice(3).map((r) => r.challenge)).toEqual([null, null]);
    expect((await attempt(attacker, PASSWORD)).challenge).toBeNull();
    const options = newCallId();
    await attacker.send(buildRequest({ method: 'OPTIONS', requestUri: 'sip:127.0.0.1', via: attacker.hostport, callId: options }), fx.target.port);
    expect(await attacker.finalResponse(options, 1000)).toBeNull();
    expect(await fx.metric('sip_edge_auth_blocks_total', { scope: 'source' })).toBe(blocksBefore + 1);
    expect(await fx.metric('sip_edge_auth_blocked_sources')).toBeGreaterThanOrEqual(1);

    // the trunk's real carrier, from another of its addresses, is not locked out
    const carrier = await RawSipPeer.open('127.0.77.11');
    const honest = await attempt(carrier, PASSWORD, UNKNOWN);
    expect(honest.challenge?.status).toBe(407);
    expect(honest.answer?.headers['x-reject-reason']).toEqual(['number_not_found']); // past auth, refused further on
    await Promise.all([attacker.close(), carrier.close()]);
  });

  it('guesses spread over addresses of the trunk: after 4 on the trunk, each new failing address is dropped at once', async () => {
    const blocksBefore = (await fx.metric('sip_edge_auth_blocks_total', { scope: 'trunk' })) ?? 0;
    const peers = await Promise.all([20, 21, 22, 23, 24, 25].map((n) => RawSipPeer.open(`127.0.77.${n}`)));
    // four addresses, one wrong guess each: under the per-source limit of 3
    for (const peer of peers.slice(0, 4)) expect((await attempt(peer, 'wrong')).answer?.status).toBe(403);
    // the fifth address: its first wrong guess is still answered, and it is dropped from then on
    const fifth = peers[4]!;
    expect((await attempt(fifth, 'wrong')).answer?.status).toBe(403);
    expect((await attempt(fifth, 'wrong')).challenge).toBeNull();
    expect(await fx.metric('sip_edge_auth_blocks_total', { scope: 'trunk' })).toBeGreaterThan(blocksBefore);
    // an address with the right password still gets through
    expect((await attempt(peers[5]!, PASSWORD, UNKNOWN)).answer?.headers['x-reject-reason']).toEqual(['number_not_found']);
    await Promise.all(peers.map((p) => p.close()));
  });
});
