/**
 * What crosses from one leg of a call to the other inside the dialog: one table, method by
 * direction, of the headers that may be copied. Everything else is left behind: X- headers
 * (a carrier's spoofed X-Workspace-Id never reaches the agent; an agent's X-Internal-Node never
 * reaches the carrier), identity headers (P-Asserted-Identity, Identity, Remote-Party-ID ...),
 * User-Agent / Server and anything else that could name a host on either side.
 */
export type RelayDirection = 'to_agent' | 'to_carrier';
export type RelayedMessage = 'INFO' | 'NOTIFY' | 'MESSAGE' | 'OPTIONS' | 'UPDATE' | 'response';

/** Headers that describe a body: they travel with it, whatever the method. */
const BODY = ['Content-Type', 'Content-Disposition', 'Content-Encoding', 'Content-Language'] as const;

export const DIALOG_HEADER_POLICY: Readonly<Record<RelayedMessage, Readonly<Record<RelayDirection, readonly string[]>>>> = {
  // RFC 6086: the Info-Package names what the body is (DTMF, media control)
  INFO: { to_agent: [...BODY, 'Info-Package'], to_carrier: [...BODY, 'Info-Package'] },
  // RFC 6665: the event package and the subscription state are what a NOTIFY means
  NOTIFY: { to_agent: [...BODY, 'Event', 'Subscription-State'], to_carrier: [...BODY, 'Event', 'Subscription-State'] },
  MESSAGE: { to_agent: [...BODY], to_carrier: [...BODY] },
  OPTIONS: { to_agent: ['Accept'], to_carrier: ['Accept'] },
  // session timers are each leg's own (RFC 4028 is hop by hop for a B2BUA): never copied
  UPDATE: { to_agent: [...BODY], to_carrier: [...BODY] },
  response: { to_agent: [...BODY], to_carrier: [...BODY] },
};

const lower = new Map<RelayedMessage, Map<RelayDirection, ReadonlySet<string>>>(
  (Object.entries(DIALOG_HEADER_POLICY) as [RelayedMessage, Record<RelayDirection, readonly string[]>][]).map(([message, byDirection]) => [
    message,
    new Map((Object.entries(byDirection) as [RelayDirection, readonly string[]][]).map(([d, names]) => [d, new Set(names.map((n) => n.toLowerCase()))])),
  ]),
);

/** A header value safe to copy: no line breaks (header injection), bounded length. */
function safe(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 1024 && !/[\r\n\0]/.test(value);
}

/** The headers of `headers` the policy lets through for this message and direction. */
export function relayedHeaders(message: string, direction: RelayDirection, headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const allowed = lower.get(message.toUpperCase() as RelayedMessage)?.get(direction) ?? lower.get('MESSAGE')!.get(direction)!;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (allowed.has(name.toLowerCase()) && safe(value)) out[name] = value;
  }
  return out;
}
