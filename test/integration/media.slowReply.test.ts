import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { RtpEngineAnchor } from '../../src/media/rtpengine.js';
import { createLogger } from '../../src/observability/logger.js';

/**
 * An ng peer on loopback that answers pings, never answers the first `drop` offers and
 * answers every other command with a minimal 'ok' (enough for the anchor's bookkeeping).
 */
async function flakyNg(drop: number): Promise<{ address: string; seen: string[]; close(): void }> {
  const socket = createSocket('udp4');
  const seen: string[] = [];
  // rtpengine-client resends a command (same cookie) before it gives up: drop every copy
  const dropped = new Set<string>();
  socket.on('message', (msg, rinfo) => {
    const text = msg.toString('latin1');
    const space = text.indexOf(' ');
    const cookie = text.slice(0, space);
    const at = /7:command(\d+):/.exec(text);
    const command = at ? text.substr(at.index + at[0].length, Number(at[1])) : 'ping';
    seen.push(command);
    if (command === 'offer' && (dropped.has(cookie) || dropped.size < drop)) {
      dropped.add(cookie);
      return;
    }
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
    const body = command === 'ping' ? 'd6:result4:ponge' : `d6:result2:ok3:sdp${Buffer.byteLength(sdp)}:${sdp}e`;
    socket.send(`${cookie} ${body}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${socket.address().port}`, seen, close: () => socket.close() };
}

describe('media anchor: one slow reply', () => {
  it('keeps the only rtpengine in rotation after one timed-out command, and still sends the call\'s delete', async () => {
    const ng = await flakyNg(1);
    const anchor = new RtpEngineAnchor({ instances: [ng.address], commandTimeoutMs: 150, pingIntervalMs: 60_000, logger: createLogger('silent') });
    anchor.start();
    try {
      const first = anchor.place('slow-1')!;
      await expect(anchor.offer(first, { fromTag: 'a', sdp: 'v=0\r\n', params: {} })).rejects.toThrow(/did not answer offer/);
      // one slow reply under load: new calls still find the instance
      expect(anchor.health().healthy).toBe(1);
      const second = anchor.place('slow-2');
      expect(second).not.toBeNull();
      await expect(anchor.offer(second!, { fromTag: 'a', sdp: 'v=0\r\n', params: {} })).resolves.toContain('m=audio');
      // the first call's media is released in rtpengine all the same
      await anchor.delete(first);
      expect(ng.seen.filter((c) => c === 'delete')).toHaveLength(1);
    } finally {
      anchor.stop();
      ng.close();
    }
  });

  it('takes it out of rotation after repeated timeouts', async () => {
    const ng = await flakyNg(3);
    const anchor = new RtpEngineAnchor({ instances: [ng.address], commandTimeoutMs: 100, pingIntervalMs: 60_000, logger: createLogger('silent') });
    anchor.start();
    try {
      for (let i = 0; i < 3; i++) {
        const call = anchor.place(`down-${i}`);
        expect(call, `call ${i}`).not.toBeNull();
        await expect(anchor.offer(call!, { fromTag: 'a', sdp: 'v=0\r\n', params: {} })).rejects.toThrow();
      }
      expect(anchor.health().healthy).toBe(0);
      expect(anchor.place('after')).toBeNull();
    } finally {
      anchor.stop();
      ng.close();
    }
  });
});
