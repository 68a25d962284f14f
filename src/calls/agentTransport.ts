import { headerBytes } from '../domain/messageSize.js';
import type { Attempt } from './sequentialBridge.js';

/** RFC 3261 18.1.1: a request over this many bytes (path MTU unknown) goes over a congestion-controlled transport. */
export const UDP_MAX_REQUEST_BYTES = 1300;

/** What drachtio-server writes into an INVITE besides the edge's headers and body: request line,
 * Via, Max-Forwards, From, To, Call-ID, CSeq, Contact, Content-Type/-Length, Allow, Supported. */
export const STACK_LINES_BYTES = 500;

/** The INVITE's size on the wire, estimated from what the edge sets. */
export function inviteBytes(headers: Readonly<Record<string, string>> | undefined, body: string | undefined): number {
  return headerBytes(headers) + (body ? Buffer.byteLength(body) : 0) + STACK_LINES_BYTES;
}

function hasTransport(uri: string): boolean {
  return /;\s*transport=/i.test(uri);
}

/**
 * The attempts for one target, transport chosen by size: an INVITE too large for UDP goes to a
 * plain sip: URI without a transport parameter over TCP first, and over UDP only when TCP could
 * not reach the target at all (RFC 3261 18.1.1 allows the retry). A URI that names its transport
 * is used as written: that is how an operator pins an agent's transport.
 */
export function bySize(attempt: Attempt, body: string | undefined, udpMaxBytes = UDP_MAX_REQUEST_BYTES): Attempt[] {
  if (udpMaxBytes <= 0) return [attempt];
  const large = inviteBytes(attempt.options.headers as Record<string, string> | undefined, body) > udpMaxBytes;
  if (!large || !/^sip:/i.test(attempt.uri) || hasTransport(attempt.uri)) return [attempt];
  const [base, headers] = attempt.uri.split('?', 2) as [string, string | undefined];
  const tcp = `${base};transport=tcp${headers !== undefined ? `?${headers}` : ''}`;
  return [{ ...attempt, uri: tcp }, { ...attempt, onlyIfUnreachable: true }];
}
