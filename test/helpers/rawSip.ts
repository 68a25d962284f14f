import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, type SipMessage } from './sipTrace.js';

/**
 * A raw SIP-over-UDP peer bound to one loopback address, for messages no SIP stack would send
 * (torture messages in the style of RFC 4475, floods, probes). It writes exactly the bytes it
 * is given and records every message it receives.
 */
export class RawSipPeer {
  private readonly received: SipMessage[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (buf) => {
      this.received.push(parseSipMessage(buf.toString('utf8'), { direction: 'received', transport: 'UDP', timestamp: new Date().toISOString() }));
      for (const wake of [...this.waiters]) wake();
    });
  }

  static open(address: string): Promise<RawSipPeer> {
    return new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind({ address, port: 0 }, () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(new RawSipPeer(socket, address, socket.address().port));
      });
    });
  }

  /** The Via sent-by of this peer. */
  get hostport(): string {
    return `${this.address}:${this.port}`;
  }

  send(text: string | Buffer, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, port, host, (err) => (err ? reject(err) : resolve())));
  }

  /** Everything received so far (responses and requests), in arrival order. */
  messages(): readonly SipMessage[] {
    return this.received;
  }

  /** Responses received for one Call-ID. */
  responsesTo(callId: string): SipMessage[] {
    return this.received.filter((m) => m.status !== undefined && m.headers['call-id']?.[0] === callId);
  }

  /** Resolves with the first final response for the Call-ID, or null after timeoutMs. */
  async finalResponse(callId: string, timeoutMs = 5000): Promise<SipMessage | null> {
    const find = () => this.responsesTo(callId).find((m) => (m.status ?? 0) >= 200) ?? null;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.waiters;
        waiters.add(done);
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export interface RequestParts {
  readonly method: string;
  readonly requestUri: string;
  /** Via sent-by (host:port) of the sender */
  readonly via: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly from?: string;
  readonly to?: string;
  /** extra header lines, written as given and in order */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  /** Max-Forwards value; null leaves the header out */
  readonly maxForwards?: number | string | null;
  /** line ending (CRLF unless a test wants otherwise) */
  readonly eol?: string;
}

export function newCallId(): string {
  return `${randomBytes(8).toString('hex')}@hostile.test`;
}

/** A request's text, well formed unless its parts say otherwise. */
export function buildRequest(p: RequestParts): string {
  const eol = p.eol ?? '\r\n';
  const body = p.body ?? '';
  const lines = [
    `${p.method} ${p.requestUri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${p.via};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    ...(p.maxForwards === null ? [] : [`Max-Forwards: ${p.maxForwards ?? 70}`]),
    `From: ${p.from ?? `<sip:+15557654321@${p.via.split(':')[0]}>`};tag=${randomBytes(4).toString('hex')}`,
    `To: ${p.to ?? `<${p.requestUri.replace(/^(\w+:[^;>]*).*$/, '$1')}>`}`,
    `Call-ID: ${p.callId ?? newCallId()}`,
    `CSeq: ${p.cseq ?? 1} ${p.method}`,
    `Contact: <sip:carrier@${p.via}>`,
    ...(p.headers ?? []).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join(eol)}${eol}${eol}${body}`;
}

/** Sends `count` messages made by `make(i)` at about `ratePerS`, in 10 ms slices; resolves when all are out. */
export async function sendBurst(peer: RawSipPeer, port: number, count: number, ratePerS: number, make: (i: number) => string): Promise<void> {
  const perSlice = Math.max(1, Math.round(ratePerS / 100));
  const started = Date.now();
  for (let i = 0; i < count; ) {
    const sends: Promise<void>[] = [];
    for (let k = 0; k < perSlice && i < count; k++, i++) sends.push(peer.send(make(i), port));
    await Promise.all(sends);
    const due = started + (i / ratePerS) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** Polls `read` until it returns the same value twice in a row `intervalMs` apart (or timeoutMs passes). */
export async function settled(read: () => Promise<number>, intervalMs = 300, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  for (;;) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = await read();
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}
