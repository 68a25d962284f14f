import { messageBytes } from '../domain/messageSize.js';
import type { Attempt } from './sequentialBridge.js';

/** RFC 3261 18.1.1: a request over this many bytes (path MTU unknown) goes over a congestion-controlled transport. */
export const UDP_MAX_REQUEST_BYTES = 1300;

function hasTransport(uri: string): boolean {
  return /;\s*transport=/i.test(uri);
}

/**
 * The attempts for one target, transport chosen by size: an INVITE too large for UDP goes to a
 * plain sip: URI without a transport parameter over TCP first, and over UDP only when TCP could
 * not reach the target at all (RFC 3261 18.1.1 allows the retry). A URI that names its transport
 * is used as written: that is how an operator pins an agent's transport.
 */
export function bySize(attempt: Attempt, body: string | undefined): Attempt[] {
  const large = messageBytes(attempt.options.headers as Record<string, string> | undefined, body) > UDP_MAX_REQUEST_BYTES;
  if (!large || !/^sip:/i.test(attempt.uri) || hasTransport(attempt.uri)) return [attempt];
  const [base, headers] = attempt.uri.split('?', 2) as [string, string | undefined];
  const tcp = `${base};transport=tcp${headers !== undefined ? `?${headers}` : ''}`;
  return [{ ...attempt, uri: tcp }, { ...attempt, onlyIfUnreachable: true }];
}
