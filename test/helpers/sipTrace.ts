/**
 * Reading what SIPp wrote: its -trace_msg message log and its -trace_stat CSV.
 * Pure functions, no processes (the runners live in sipp.ts, which re-exports these).
 */

export interface SipMessage {
  readonly direction: 'sent' | 'received';
  /** 'UDP' | 'TCP' as SIPp logs it. */
  readonly transport: string;
  readonly timestamp: string;
  readonly firstLine: string;
  /** Request method (requests only). */
  readonly method?: string;
  /** Request-URI (requests only). */
  readonly requestUri?: string;
  /** Status code (responses only). */
  readonly status?: number;
  readonly reason?: string;
  /**
   * Lower-case full header name -> values, one per header line, in order
   * (compact forms like `i:` are expanded; comma-separated values are not split).
   */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: string;
  readonly raw: string;
}

const COMPACT_HEADERS: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via', r: 'refer-to', b: 'referred-by', o: 'event', x: 'session-expires', u: 'allow-events',
};

/** Parses one SIP message (request or response) from its text; the body keeps its line endings (CRLF on the wire). */
export function parseSipMessage(text: string, meta: { direction: 'sent' | 'received'; transport: string; timestamp: string }): SipMessage {
  const raw = text.replace(/^(\r?\n)+/, '');
  const blank = /\r?\n\r?\n/.exec(raw);
  const head = blank ? raw.slice(0, blank.index) : raw.replace(/\s+$/, '');
  const rest = blank ? raw.slice(blank.index + blank[0].length) : '';
  const [firstLine = '', ...lines] = head.split(/\r?\n/);
  const headers: Record<string, string[]> = {};
  let last: string[] | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last && last.length > 0) {
      last[last.length - 1] = `${last[last.length - 1]} ${line.trim()}`; // folded line
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT_HEADERS[rawName] ?? rawName;
    last = headers[name] ??= [];
    last.push(line.slice(colon + 1).trim());
  }
  const length = Number(headers['content-length']?.[0]);
  // SIPp appends its own newline(s) after each message: Content-Length says where the body ends.
  const body = Number.isFinite(length) ? Buffer.from(rest, 'utf8').subarray(0, length).toString('utf8') : rest.replace(/(\r?\n)+$/, '');
  const response = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(firstLine);
  const request = /^([A-Z]+)\s+(\S+)\s+SIP\/2\.0$/.exec(firstLine);
  return {
    ...meta,
    firstLine,
    ...(request ? { method: request[1], requestUri: request[2] } : {}),
    ...(response ? { status: Number(response[1]), reason: response[2] } : {}),
    headers,
    body,
    raw,
  };
}

const TRACE_SEPARATOR = /^-{10,} (\d{4}-\d\d-\d\d [\d:.]+)\s*$/;
const TRACE_DIRECTION = /^(\w+) message (sent|received)\b/;

/** Parses SIPp's -trace_msg file (`---- timestamp` / `UDP message sent (N bytes):` / message). */
export function parseMessageTrace(text: string): SipMessage[] {
  const messages: SipMessage[] = [];
  const lines = text.split('\n');
  let current: { timestamp: string; direction?: 'sent' | 'received'; transport?: string; body: string[] } | null = null;
  const flush = (): void => {
    if (current?.direction && current.transport) {
      const raw = current.body.join('\n');
      if (raw.trim()) messages.push(parseSipMessage(raw, { direction: current.direction, transport: current.transport, timestamp: current.timestamp }));
    }
  };
  for (const line of lines) {
    const separator = TRACE_SEPARATOR.exec(line);
    if (separator) {
      flush();
      current = { timestamp: separator[1] ?? '', body: [] };
      continue;
    }
    if (!current) continue;
    if (!current.direction) {
      const direction = TRACE_DIRECTION.exec(line);
      if (direction) {
        current.transport = direction[1] ?? '';
        current.direction = direction[2] as 'sent' | 'received';
      }
      continue;
    }
    current.body.push(line);
  }
  flush();
  return messages;
}

/** Values of a header (case-insensitive name), [] when absent. */
export function headerValues(message: SipMessage | undefined, name: string): readonly string[] {
  const key = name.toLowerCase();
  return message?.headers[COMPACT_HEADERS[key] ?? key] ?? [];
}

/** First value of a header, undefined when absent. */
export function header(message: SipMessage | undefined, name: string): string | undefined {
  return headerValues(message, name)[0];
}

function cseqMethod(message: SipMessage): string | undefined {
  return header(message, 'cseq')?.split(/\s+/)[1]?.toUpperCase();
}

/** Requests this SIPp instance received (optionally of one method). UDP retransmissions appear more than once. */
export function receivedRequests(messages: readonly SipMessage[], method?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'received' && m.method !== undefined && (method === undefined || m.method === method.toUpperCase()));
}

export function sentRequests(messages: readonly SipMessage[], method?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'sent' && m.method !== undefined && (method === undefined || m.method === method.toUpperCase()));
}

/** Responses this SIPp instance received, optionally only those for one CSeq method. */
export function receivedResponses(messages: readonly SipMessage[], cseq?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'received' && m.status !== undefined && (cseq === undefined || cseqMethod(m) === cseq.toUpperCase()));
}

export function sentResponses(messages: readonly SipMessage[], cseq?: string): SipMessage[] {
  return messages.filter((m) => m.direction === 'sent' && m.status !== undefined && (cseq === undefined || cseqMethod(m) === cseq.toUpperCase()));
}

/** The first final (>= 200) response received for the given CSeq method (INVITE by default). */
export function finalResponse(messages: readonly SipMessage[], cseq = 'INVITE'): SipMessage | undefined {
  return receivedResponses(messages, cseq).find((m) => (m.status ?? 0) >= 200);
}

export interface SippStats {
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  readonly current: number;
  readonly retransmissions: number;
  readonly unexpectedMessages: number;
  readonly timeoutsOnRecv: number;
  /** Every cumulative counter of the last line, e.g. raw['FailedRegexpHdrNotFound(C)']. */
  readonly raw: Readonly<Record<string, string>>;
}

/** The cumulative counters of the last line of a -trace_stat CSV (`;`-separated). */
export function parseStatsCsv(text: string): SippStats | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const headerLine = lines[0];
  const lastLine = lines[lines.length - 1];
  if (!headerLine || !lastLine || lines.length < 2) return undefined;
  const names = headerLine.split(';');
  const values = lastLine.split(';');
  const raw: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name) raw[name] = values[i] ?? '';
  });
  const n = (name: string): number => Number(raw[name] ?? 0) || 0;
  return {
    created: n('TotalCallCreated'),
    successful: n('SuccessfulCall(C)'),
    failed: n('FailedCall(C)'),
    current: n('CurrentCall'),
    retransmissions: n('Retransmissions(C)'),
    unexpectedMessages: n('FailedUnexpectedMessage(C)'),
    timeoutsOnRecv: n('FailedTimeoutOnRecv(C)'),
    raw,
  };
}

