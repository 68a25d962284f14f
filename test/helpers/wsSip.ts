import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { parseSipMessage, type SipMessage } from './sipTrace.js';

/**
 * A minimal SIP-over-WebSocket UAC (RFC 7118), the way a browser's SIP stack talks to the edge's
 * browser entry: one INVITE, its ACK, a BYE. It records every message it receives and answers
 * in-dialog requests (BYE) from the other side with 200.
 */
export class WsSipClient {
  private readonly received: SipMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly host = `${randomBytes(4).toString('hex')}.invalid`;
  private readonly transport: 'WS' | 'WSS';

  private constructor(private readonly socket: WebSocket, url: string) {
    this.transport = url.startsWith('wss:') ? 'WSS' : 'WS';
    socket.on('message', (data) => {
      const message = parseSipMessage(data.toString(), { direction: 'received', transport: this.transport, timestamp: new Date().toISOString() });
      this.received.push(message);
      if (message.method === 'BYE') void this.send(this.okTo(message));
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Connects with the "sip" subprotocol; `insecure` accepts a self-signed wss certificate. */
  static connect(url: string, options: { insecure?: boolean } = {}): Promise<WsSipClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'sip', { rejectUnauthorized: !options.insecure });
      socket.once('open', () => resolve(new WsSipClient(socket, url)));
      socket.once('error', reject);
    });
  }

  messages(): readonly SipMessage[] {
    return this.received;
  }

  send(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(text, (err) => (err ? reject(err) : resolve())));
  }

  /** Sends an INVITE; resolves with what the ACK and BYE need. */
  async invite(options: { requestUri?: string; headers?: Record<string, string>; sdp?: string }): Promise<WsCall> {
    const callId = `${randomBytes(8).toString('hex')}@${this.host}`;
    const fromTag = randomBytes(4).toString('hex');
    const requestUri = options.requestUri ?? 'sip:test-call@127.0.0.1';
    const body = options.sdp ?? '';
    const lines = [
      `INVITE ${requestUri} SIP/2.0`,
      this.via(),
      'Max-Forwards: 70',
      `From: <sip:browser@${this.host}>;tag=${fromTag}`,
      `To: <${requestUri}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:browser@${this.host};transport=ws;ob>`,
      ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    await this.send(`${lines.join('\r\n')}\r\n\r\n${body}`);
    return { callId, fromTag, requestUri };
  }

  /** Resolves with the first final response to the call, or null after timeoutMs. */
  finalResponse(call: WsCall, timeoutMs = 10_000): Promise<SipMessage | null> {
    return this.waitFor(() => this.received.find((m) => (m.status ?? 0) >= 200 && m.headers['call-id']?.[0] === call.callId && /INVITE/.test(m.headers.cseq?.[0] ?? '')) ?? null, timeoutMs);
  }

  /** Resolves with the first request of `method` the other side sent in the call, or null. */
  request(call: WsCall, method: string, timeoutMs = 10_000): Promise<SipMessage | null> {
    return this.waitFor(() => this.received.find((m) => m.method === method && m.headers['call-id']?.[0] === call.callId) ?? null, timeoutMs);
  }

  /** ACKs a 2xx (to its Contact, with its To tag). */
  async ack(call: WsCall, ok: SipMessage): Promise<void> {
    await this.send(this.inDialog('ACK', call, ok, 1));
  }

  /** Ends an answered call; resolves with the BYE's final response (or null). */
  async bye(call: WsCall, ok: SipMessage, timeoutMs = 5000): Promise<SipMessage | null> {
    await this.send(this.inDialog('BYE', call, ok, 2));
    return this.waitFor(() => this.received.find((m) => (m.status ?? 0) >= 200 && m.headers['call-id']?.[0] === call.callId && /BYE/.test(m.headers.cseq?.[0] ?? '')) ?? null, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }

  private via(): string {
    return `Via: SIP/2.0/${this.transport} ${this.host};branch=z9hG4bK${randomBytes(6).toString('hex')}`;
  }

  private inDialog(method: string, call: WsCall, ok: SipMessage, cseq: number): string {
    const contact = /<([^>]+)>/.exec(ok.headers.contact?.[0] ?? '')?.[1] ?? call.requestUri;
    const routes = (ok.headers['record-route'] ?? []).slice().reverse();
    return [
      `${method} ${contact} SIP/2.0`,
      this.via(),
      'Max-Forwards: 70',
      ...routes.map((r) => `Route: ${r}`),
      `From: <sip:browser@${this.host}>;tag=${call.fromTag}`,
      `To: ${ok.headers.to?.[0] ?? ''}`,
      `Call-ID: ${call.callId}`,
      `CSeq: ${cseq} ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  private okTo(request: SipMessage): string {
    const h = (name: string): string[] => [...(request.headers[name] ?? [])];
    return [
      'SIP/2.0 200 OK',
      ...h('via').map((v) => `Via: ${v}`),
      `From: ${h('from')[0] ?? ''}`,
      `To: ${h('to')[0] ?? ''}`,
      `Call-ID: ${h('call-id')[0] ?? ''}`,
      `CSeq: ${h('cseq')[0] ?? ''}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  private async waitFor<T>(find: () => T | null, timeoutMs: number): Promise<T | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }
}

export interface WsCall {
  readonly callId: string;
  readonly fromTag: string;
  readonly requestUri: string;
}

/**
 * A WebRTC-shaped SDP offer (what a browser sends: ICE, DTLS fingerprint, SAVPF, rtcp-mux, Opus
 * and PCMU) for tests that speak SIP without a browser. No DTLS handshake ever follows it.
 */
export function webrtcOffer(port = 9, codecs: 'opus+pcmu' | 'opus' = 'opus+pcmu'): string {
  const pts = codecs === 'opus' ? '111' : '111 0';
  return [
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    `m=audio ${port} UDP/TLS/RTP/SAVPF ${pts}`,
    'c=IN IP4 127.0.0.1',
    `a=candidate:1 1 udp 2122194687 127.0.0.1 ${port} typ host`,
    'a=ice-ufrag:abcd',
    'a=ice-pwd:0123456789abcdef01234567',
    'a=fingerprint:sha-256 61:9E:E7:AB:10:0D:F1:1D:1E:FB:81:EC:AF:E9:00:FF:B2:06:02:AA:D5:42:69:0D:8D:2E:AF:95:B8:A1:53:D2',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    ...(codecs === 'opus' ? [] : ['a=rtpmap:0 PCMU/8000']),
    '',
  ].join('\r\n');
}
