import { createSocket, type Socket } from 'node:dgram';
import { parse } from 'sdp-transform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaUnavailableError } from '../../src/media/anchor.js';
import { LEG_MEDIA, withoutIdentity } from '../../src/media/policy.js';
import { RtpEngineAnchor } from '../../src/media/rtpengine.js';
import { createLogger } from '../../src/observability/logger.js';
import { freeLoopbackPort, waitUntil } from '../helpers/localProcess.js';
import { describeRtpengine, startRtpengine, type Rtpengine } from '../helpers/rtpengine.js';

const CARRIER_KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

function sdp(ip: string, port: number, proto = 'RTP/AVP', extra: string[] = []): string {
  return ['v=0', `o=carrier-host 42 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} ${proto} 0`, 'a=rtpmap:0 PCMU/8000', ...extra, 'a=ssrc:4242 cname:sip:secret-peer@10.9.9.9', 'a=sendrecv', ''].join('\r\n');
}

function rtp(seq: number, ssrc: number): Buffer {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

async function udpPeer(ip: string): Promise<{ socket: Socket; port: number; received: () => number }> {
  const port = await freeLoopbackPort({ host: ip, tcp: false });
  const socket = createSocket('udp4');
  let n = 0;
  socket.on('message', () => n++);
  await new Promise<void>((resolve) => socket.bind(port, ip, resolve));
  return { socket, port, received: () => n };
}

const mediaPort = (s: string): { ip: string; port: number; proto: string } => {
  const m = parse(s).media[0]!;
  return { ip: m.connection?.ip ?? parse(s).connection!.ip, port: m.port, proto: m.protocol };
};

const logger = createLogger('silent');

describeRtpengine('media anchor on a real rtpengine', () => {
  let one: Rtpengine;
  let two: Rtpengine;
  let anchor: RtpEngineAnchor;

  beforeAll(async () => {
    [one, two] = await Promise.all([startRtpengine(), startRtpengine()]);
    anchor = new RtpEngineAnchor({ instances: [one.ng, two.ng], commandTimeoutMs: 300, pingIntervalMs: 200, logger });
    anchor.start();
  });
  afterAll(async () => {
    anchor?.stop();
    await Promise.all([one?.stop(), two?.stop()]);
  });

  it('offers, answers, forwards RTP both ways, reports it per leg, and deletes', async () => {
    const carrier = await udpPeer('127.0.0.5');
    const agent = await udpPeer('127.0.0.9');
    const call = anchor.place(`it-${Date.now()}`)!;
    try {
      const toAgent = await anchor.offer(call, { fromTag: 'a', sdp: withoutIdentity(sdp('127.0.0.5', carrier.port)), params: LEG_MEDIA.rtp.offer });
      const toCarrier = await anchor.answer(call, { fromTag: 'a', toTag: 'b1', sdp: withoutIdentity(sdp('127.0.0.9', agent.port)), params: {} });
      // each side sees only the anchor's address, never the other's
      for (const s of [toAgent, toCarrier]) {
        expect(mediaPort(s).ip).toBe('127.0.0.1');
        expect(s).not.toMatch(/127\.0\.0\.[59]|secret-peer|carrier-host|10\.9\.9\.9/);
      }
      const agentSide = mediaPort(toAgent).port;
      const carrierSide = mediaPort(toCarrier).port;
      for (let i = 0; i < 30; i++) {
        carrier.socket.send(rtp(i, 1111), carrierSide, '127.0.0.1');
        agent.socket.send(rtp(i, 2222), agentSide, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitUntil(() => carrier.received() >= 25 && agent.received() >= 25, { timeoutMs: 3000, what: 'RTP through rtpengine' });
      const report = await anchor.query(call);
      expect(report.legs.a?.packets).toBe(30);
      expect(report.legs.b1?.packets).toBe(30);
      expect(report.legs.a?.lastPacketAt).toBeGreaterThan(Date.now() - 5000);
      await anchor.delete(call);
      await expect(anchor.query(call)).rejects.toBeInstanceOf(MediaUnavailableError);
    } finally {
      carrier.socket.close();
      agent.socket.close();
    }
  });

  it('terminates SDES on the carrier leg: the RTP agent gets no a=crypto, the carrier a key of the anchor', async () => {
    const call = anchor.place(`it-srtp-${Date.now()}`)!;
    const offer = sdp('127.0.0.5', 30000, 'RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${CARRIER_KEY}`]);
    const toAgent = await anchor.offer(call, { fromTag: 'a', sdp: withoutIdentity(offer), params: LEG_MEDIA.rtp.offer });
    expect(mediaPort(toAgent).proto).toBe('RTP/AVP');
    expect(toAgent).not.toMatch(/a=crypto|a=fingerprint/);
    expect(toAgent).not.toContain(CARRIER_KEY);
    const toCarrier = await anchor.answer(call, { fromTag: 'a', toTag: 'b1', sdp: sdp('127.0.0.9', 31000), params: {} });
    expect(mediaPort(toCarrier).proto).toBe('RTP/SAVP');
    const crypto = parse(toCarrier).media[0]!.crypto ?? [];
    expect(crypto).toHaveLength(1);
    expect(crypto[0]!.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(crypto[0]!.config).not.toContain(CARRIER_KEY);
    await anchor.delete(call);
  });

  it('offers SDES to an sdes agent with keys of its own, never NULL or F8 suites', async () => {
    const call = anchor.place(`it-sdes-${Date.now()}`)!;
    const toAgent = await anchor.offer(call, { fromTag: 'a', sdp: sdp('127.0.0.5', 30002), params: LEG_MEDIA.sdes.offer });
    const suites = (parse(toAgent).media[0]!.crypto ?? []).map((c) => c.suite);
    expect(mediaPort(toAgent).proto).toBe('RTP/SAVP');
    expect(suites).toContain('AES_CM_128_HMAC_SHA1_80');
    expect(suites.filter((s) => /^(NULL|F8)_/.test(s))).toEqual([]);
    const dtlsCall = anchor.place(`it-dtls-${Date.now()}`)!;
    const toDtls = await anchor.offer(dtlsCall, { fromTag: 'a', sdp: sdp('127.0.0.5', 30004), params: LEG_MEDIA.dtls.offer });
    expect(mediaPort(toDtls).proto).toBe('UDP/TLS/RTP/SAVP');
    expect(toDtls).toMatch(/a=fingerprint:/);
    expect(toDtls).not.toMatch(/a=crypto/);
    await Promise.all([anchor.delete(call), anchor.delete(dtlsCall)]);
  });

  it('spreads new calls over the healthy instances (fewest calls first)', () => {
    const placed = Array.from({ length: 6 }, (_, i) => anchor.place(`spread-${i}`)!);
    const counts = new Map<string, number>();
    for (const c of placed) counts.set(c.instance, (counts.get(c.instance) ?? 0) + 1);
    expect(counts.get(one.ng)).toBe(counts.get(two.ng));
    return Promise.all(placed.map((c) => anchor.delete(c).catch(() => undefined)));
  });

  it('takes an instance that stops answering out of rotation within one ping, fails its calls fast, and takes it back', async () => {
    await two.kill();
    // before the next ping notices: a command on it fails within the command timeout
    const call = { callId: `down-${Date.now()}`, instance: two.ng };
    const started = Date.now();
    await expect(anchor.offer(call, { fromTag: 'a', sdp: sdp('127.0.0.5', 30006), params: LEG_MEDIA.rtp.offer })).rejects.toBeInstanceOf(MediaUnavailableError);
    expect(Date.now() - started).toBeLessThan(500);
    await waitUntil(() => anchor.health().healthy === 1, { timeoutMs: 2000, what: 'one healthy instance' });
    for (let i = 0; i < 4; i++) expect(anchor.place(`only-one-${i}`)?.instance).toBe(one.ng);
    await one.kill();
    await waitUntil(() => anchor.health().healthy === 0, { timeoutMs: 2000, what: 'no healthy instance' });
    expect(anchor.place('none')).toBeNull();
    await Promise.all([one.start(), two.start()]);
    await waitUntil(() => anchor.health().healthy === 2, { timeoutMs: 3000, what: 'both instances back' });
    const back = anchor.place(`back-${Date.now()}`)!;
    await expect(anchor.offer(back, { fromTag: 'a', sdp: sdp('127.0.0.5', 30008), params: LEG_MEDIA.rtp.offer })).resolves.toMatch(/^v=0/);
    await anchor.delete(back);
  });
});

describe('media anchor without rtpengine', () => {
  it('has no healthy instance once the first ping goes unanswered, and refuses at once', async () => {
    const port = await freeLoopbackPort({ tcp: false });
    const anchor = new RtpEngineAnchor({ instances: [`127.0.0.1:${port}`], commandTimeoutMs: 100, pingIntervalMs: 100, logger });
    anchor.start();
    try {
      await waitUntil(() => anchor.health().healthy === 0, { timeoutMs: 2000, what: 'instance marked down' });
      expect(anchor.place('x')).toBeNull();
    } finally {
      anchor.stop();
    }
  });
});
