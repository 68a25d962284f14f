import { createSocket, type Socket } from 'node:dgram';
import { parse } from 'sdp-transform';
import { freeLoopbackPort } from '../../helpers/localProcess.js';

function rtpPacket(seq: number, ssrc: number): Buffer {
  const b = Buffer.alloc(172, 0xff);
  b[0] = 0x80;
  b[1] = 0; // PCMU
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/**
 * A call party's media endpoint on its own loopback address: streams PCMU-sized RTP every 20 ms
 * and counts what reaches it. `latch` sends to wherever packets come from (symmetric RTP, as a
 * carrier's media gateway does); else to a fixed address taken from the SDP it was given.
 */
export class RtpEndpoint {
  received = 0;
  sent = 0;
  lastReceivedAt = 0;
  /** the address packets came from (the anchor's port facing this endpoint) */
  source: { address: string; port: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private target: { address: string; port: number } | null = null;

  private constructor(
    readonly ip: string,
    readonly port: number,
    private readonly socket: Socket,
    private readonly ssrc: number,
  ) {
    socket.on('message', (_msg, from) => {
      this.received++;
      this.lastReceivedAt = Date.now();
      this.source = { address: from.address, port: from.port };
    });
  }

  static async open(ip: string): Promise<RtpEndpoint> {
    const port = await freeLoopbackPort({ host: ip, tcp: false });
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, ip, () => resolve());
    });
    return new RtpEndpoint(ip, port, socket, 0x1000 + Math.floor(Math.random() * 0xffff));
  }

  /** Streams to the media address of an SDP (its first m-line). */
  streamToSdp(sdp: string): void {
    const session = parse(sdp);
    const m = session.media[0]!;
    this.streamTo({ address: m.connection?.ip ?? session.connection!.ip, port: m.port });
  }

  /** Streams to the address packets come from, once some have come. */
  streamToSource(): void {
    this.stream(() => this.source);
  }

  streamTo(target: { address: string; port: number }): void {
    this.target = target;
    this.stream(() => this.target);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  close(): void {
    this.stop();
    this.socket.close();
  }

  private stream(to: () => { address: string; port: number } | null): void {
    this.stop();
    this.timer = setInterval(() => {
      const t = to();
      if (!t) return;
      this.socket.send(rtpPacket(this.sent++, this.ssrc), t.port, t.address);
    }, 20);
  }
}

/** The media address an SDP names: c= (media level first) and the first m-line's port and protocol. */
export function mediaOf(sdp: string): { ip: string; port: number; proto: string } {
  const session = parse(sdp);
  const m = session.media[0]!;
  return { ip: m.connection?.ip ?? session.connection?.ip ?? '', port: m.port, proto: m.protocol };
}
