import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * A minimal SIP client over TLS (or plain TCP) for the cases SIPp 3.6.1 cannot
 * do (it has no TLS): one INVITE, read until the final response, ACK it; after a
 * 2xx also hang up with BYE so nothing is left open.
 */

export interface SipResponse {
  readonly status: number;
  readonly reason: string;
  /** Lower-case header name -> values, one per header line. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: string;
  readonly raw: string;
}

export interface SendInviteOptions {
  readonly host: string;
  readonly port: number;
  /** e.g. sip:+15550001001@127.0.0.1:5061;transport=tls */
  readonly requestUri: string;
  /** URI (sip:+15557654321@127.0.0.1) or a full name-addr; a tag is added. */
  readonly from: string;
  /** URI or name-addr, without tag. */
  readonly to: string;
  /** SDP offer; none (late offer) when absent. */
  readonly sdp?: string;
  /** Any other body, sent byte for byte with this Content-Type (instead of sdp). */
  readonly body?: { readonly contentType: string; readonly bytes: Buffer };
  /** Extra headers, in order. */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** Bound for the whole exchange (10 s by default). */
  readonly timeoutMs?: number;
  /** Source address to bind (any of 127.0.0.0/8), so the edge's allowlist sees it. */
  readonly localAddress?: string;
  /** false: plain TCP instead of TLS. */
  readonly tls?: boolean;
  /** After a 2xx: wait this long between ACK and BYE (0 by default). */
  readonly holdMs?: number;
  /** After a 2xx: write ACK and BYE in one write, as a caller hanging up the instant it is answered. */
  readonly byeWithAck?: boolean;
  /** false: the INVITE carries no Contact header. */
  readonly contact?: boolean;
  /** After a 2xx and its ACK, before the BYE: requests sent inside the dialog, one after the other. */
  readonly midCall?: ReadonlyArray<{ readonly method: string; readonly body?: string; readonly contentType?: string; readonly headers?: Readonly<Record<string, string>> }>;
}

export interface SendInviteResult extends SipResponse {
  /** Every response to the INVITE, provisional ones included, in arrival order. */
  readonly responses: readonly SipResponse[];
  /** Requests the server sent us (each answered 200), in arrival order; `reason` holds the request line. */
  readonly requestsReceived?: readonly SipResponse[];
  /** The responses to `midCall` requests, in order (undefined where none came in time). */
  readonly midCallResponses?: ReadonlyArray<SipResponse | undefined>;
  /** The response to our BYE after a 2xx (undefined when none came in time). */
  readonly byeResponse?: SipResponse;
  readonly callId: string;
  /** The TLS protocol negotiated ('TLSv1.3'), undefined over TCP. */
  readonly tlsProtocol?: string;
}

/** A minimal RTP/AVP PCMU offer (CRLF line endings) for raw INVITEs. */
export function exampleSdpOffer(ip: string, port = 40000): string {
  return ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
}

const COMPACT: Readonly<Record<string, string>> = { i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', f: 'from', t: 'to', v: 'via', k: 'supported', s: 'subject' };

interface Parsed {
  readonly firstLine: string;
  readonly headers: Record<string, string[]>;
  readonly body: string;
  readonly raw: string;
}

/** Splits a stream buffer into complete SIP messages (Content-Length framed). */
class SipStreamParser {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): Parsed[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: Parsed[] = [];
    for (;;) {
      // Skip keep-alive CRLFs between messages.
      while (this.buffer.length >= 2 && this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) this.buffer = this.buffer.subarray(2);
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) return out;
      const head = this.buffer.subarray(0, end).toString('utf8');
      const [firstLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string[]> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const raw = line.slice(0, colon).trim().toLowerCase();
        (headers[COMPACT[raw] ?? raw] ??= []).push(line.slice(colon + 1).trim());
      }
      const length = Number(headers['content-length']?.[0] ?? 0) || 0;
      if (this.buffer.length < end + 4 + length) return out;
      const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      const raw = this.buffer.subarray(0, end + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(end + 4 + length);
      out.push({ firstLine, headers, body, raw });
    }
  }
}

const token = (bytes = 6): string => randomBytes(bytes).toString('hex');
const nameAddr = (value: string): string => (value.includes('<') ? value : `<${value}>`);

function toResponse(parsed: Parsed): SipResponse | undefined {
  const m = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(parsed.firstLine);
  if (!m) return undefined;
  return { status: Number(m[1]), reason: m[2] ?? '', headers: parsed.headers, body: parsed.body, raw: parsed.raw };
}

/** The URI inside a Contact / name-addr value. */
function uriOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const angle = /<([^>]+)>/.exec(value);
  return angle ? angle[1] : value.split(';')[0]?.trim();
}

/** Sends one INVITE over TLS (or TCP) and resolves with its final response. */
export async function sendTlsInvite(options: SendInviteOptions): Promise<SendInviteResult> {
  const useTls = options.tls ?? true;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = useTls ? 'TLS' : 'TCP';
  const socket: Socket = useTls
    ? tlsConnect({ host: options.host, port: options.port, rejectUnauthorized: false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) })
    : netConnect({ host: options.host, port: options.port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });

  const deadline = Date.now() + timeoutMs;
  const parser = new SipStreamParser();
  const waiting: Array<(p: Parsed) => boolean> = [];
  const inbox: Parsed[] = [];
  const requestsReceived: SipResponse[] = [];
  /** resolves when the server ends the call itself (a BYE to us) */
  let byeFromServer: () => void = () => undefined;
  const serverHungUp = new Promise<void>((resolve) => (byeFromServer = resolve));
  let hungUpByServer = false;
  let closed: Error | null = null;

  const write = (text: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${transport} connect to ${options.host}:${options.port} timed out`)), timeoutMs);
      socket.once(useTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    socket.on('error', (err) => {
      closed = err;
    });
    socket.on('close', () => {
      closed ??= new Error('connection closed');
      for (const w of waiting.splice(0)) w({ firstLine: '', headers: {}, body: '', raw: '' });
    });

    const localIp = socket.localAddress ?? '127.0.0.1';
    const localPort = socket.localPort ?? 0;
    const callId = `${token(8)}@${localIp}`;
    const fromTag = token(4);
    const from = `${nameAddr(options.from)};tag=${fromTag}`;
    const contact = `<sip:sipedge-test@${localIp}:${localPort};transport=${transport.toLowerCase()}>`;
    const via = (branch: string): string => `SIP/2.0/${transport} ${localIp}:${localPort};branch=${branch};rport`;

    // Requests from the server (a BYE, an OPTIONS ping) get a plain 200.
    socket.on('data', (chunk: Buffer) => {
      for (const parsed of parser.push(chunk)) {
        if (!parsed.firstLine.startsWith('SIP/2.0')) {
          requestsReceived.push({ status: 0, reason: parsed.firstLine, headers: parsed.headers, body: parsed.body, raw: parsed.raw });
          if (parsed.firstLine.startsWith('BYE ')) {
            hungUpByServer = true;
            byeFromServer();
          }
          const h = parsed.headers;
          void write(
            ['SIP/2.0 200 OK', ...(h.via ?? []).map((v) => `Via: ${v}`), `From: ${h.from?.[0] ?? ''}`, `To: ${h.to?.[0] ?? ''}`,
              `Call-ID: ${h['call-id']?.[0] ?? ''}`, `CSeq: ${h.cseq?.[0] ?? ''}`, 'Content-Length: 0', '', ''].join('\r\n'),
          ).catch(() => undefined);
          continue;
        }
        const index = waiting.findIndex((w) => w(parsed));
        if (index === -1) inbox.push(parsed);
        else waiting.splice(index, 1);
      }
    });

    /** Next response with this CSeq method, bounded by the overall deadline. */
    const nextResponse = (method: string): Promise<SipResponse | undefined> =>
      new Promise((resolve) => {
        const matches = (p: Parsed): boolean => p.headers.cseq?.[0]?.toUpperCase().endsWith(` ${method}`) === true;
        const queued = inbox.findIndex(matches);
        if (queued !== -1) {
          const [p] = inbox.splice(queued, 1);
          resolve(p ? toResponse(p) : undefined);
          return;
        }
        if (closed) {
          resolve(undefined);
          return;
        }
        const timer = setTimeout(() => {
          const i = waiting.indexOf(handler);
          if (i !== -1) waiting.splice(i, 1);
          resolve(undefined);
        }, Math.max(0, deadline - Date.now()));
        const handler = (p: Parsed): boolean => {
          if (p.firstLine === '') {
            clearTimeout(timer);
            resolve(undefined);
            return true;
          }
          if (!matches(p)) return false;
          clearTimeout(timer);
          resolve(toResponse(p));
          return true;
        };
        waiting.push(handler);
      });

    const extra = Array.isArray(options.headers)
      ? (options.headers as ReadonlyArray<readonly [string, string]>)
      : Object.entries((options.headers ?? {}) as Record<string, string>);
    const body = options.body ? options.body.bytes : Buffer.from(options.sdp ? options.sdp.replace(/\r?\n/g, '\r\n') : '');
    const contentType = options.body ? options.body.contentType : 'application/sdp';
    const inviteBranch = `z9hG4bK${token(8)}`;
    const inviteHead = [
        `INVITE ${options.requestUri} SIP/2.0`,
        `Via: ${via(inviteBranch)}`,
        'Max-Forwards: 70',
        `From: ${from}`,
        `To: ${nameAddr(options.to)}`,
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        ...(options.contact === false ? [] : [`Contact: ${contact}`]),
        ...extra.map(([name, value]) => `${name}: ${value}`),
        ...(body.length > 0 ? [`Content-Type: ${contentType}`] : []),
        `Content-Length: ${body.length}`,
        '',
        '',
      ].join('\r\n');
    await write(Buffer.concat([Buffer.from(inviteHead), body]));

    const responses: SipResponse[] = [];
    let final: SipResponse | undefined;
    while (!final) {
      const response = await nextResponse('INVITE');
      if (!response) {
        throw new Error(
          `no final response to the INVITE within ${timeoutMs} ms (${closed ? String(closed) : 'timeout'}); got: ${responses.map((r) => r.status).join(', ') || 'nothing'}`,
        );
      }
      responses.push(response);
      if (response.status >= 200) final = response;
    }
    const toWithTag = final.headers.to?.[0] ?? nameAddr(options.to);
    const tlsProtocol = useTls ? ((socket as TLSSocket).getProtocol() ?? undefined) : undefined;

    if (final.status >= 300) {
      // ACK for a non-2xx final: same branch, same Request-URI, the response's To.
      await write(
        [`ACK ${options.requestUri} SIP/2.0`, `Via: ${via(inviteBranch)}`, 'Max-Forwards: 70', `From: ${from}`, `To: ${toWithTag}`,
          `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      return { ...final, responses, callId, ...(tlsProtocol ? { tlsProtocol } : {}) };
    }

    // 2xx: ACK (new transaction, to the remote target), then BYE to clean up.
    const target = uriOf(final.headers.contact?.[0]) ?? options.requestUri;
    const inDialog = (method: string, cseq: number, body = '', contentType = 'text/plain', headers: Readonly<Record<string, string>> = {}): string =>
      [`${method} ${target} SIP/2.0`, `Via: ${via(`z9hG4bK${token(8)}`)}`, 'Max-Forwards: 70', `From: ${from}`, `To: ${toWithTag}`,
        `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, `Contact: ${contact}`, ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`),
        ...(body ? [`Content-Type: ${contentType}`] : []),
        `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
    const midCallResponses: (SipResponse | undefined)[] = [];
    let cseq = 1;
    if (options.byeWithAck) {
      await write(inDialog('ACK', 1) + inDialog('BYE', 2));
    } else {
      await write(inDialog('ACK', 1));
      for (const request of options.midCall ?? []) {
        await write(inDialog(request.method, ++cseq, request.body, request.contentType, request.headers));
        midCallResponses.push(await nextResponse(request.method));
      }
      if (options.holdMs) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([serverHungUp, new Promise((resolve) => (timer = setTimeout(resolve, Math.min(options.holdMs ?? 0, Math.max(0, deadline - Date.now())))))]);
        clearTimeout(timer);
      }
      // a call the server already ended gets no BYE from us
      if (hungUpByServer) return { ...final, responses, callId, midCallResponses, requestsReceived, ...(tlsProtocol ? { tlsProtocol } : {}) };
      await write(inDialog('BYE', ++cseq));
    }
    const byeResponse = await nextResponse('BYE');
    return { ...final, responses, callId, midCallResponses, requestsReceived, ...(byeResponse ? { byeResponse } : {}), ...(tlsProtocol ? { tlsProtocol } : {}) };
  } finally {
    socket.destroy();
  }
}
