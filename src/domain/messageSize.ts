/**
 * What a SIP message the edge hands drachtio-server weighs. drachtio-server reads each message
 * from the app into a buffer of ~12 KB (m_buffer(12228) in its src/client.cpp) and never recovers
 * from a larger one, so every message the edge sends is measured against sip.max_message_bytes
 * before it is sent; over the limit, the edge answers with a refusal instead.
 */

/** Room for what drachtio-srf and the edge add to a message beyond its headers and body:
 * request/status line, From/To/Call-ID/CSeq/Contact written by drachtio-srf, the wire framing. */
export const FRAMING_ALLOWANCE_BYTES = 1024;

/** Headers the edge may add to an INVITE it bridges (X-Workspace-Id ... X-Caller, voicemail text). */
export const EDGE_HEADERS_ALLOWANCE_BYTES = 1024;

export function headerBytes(headers: Readonly<Record<string, string>> | undefined): number {
  let total = 0;
  for (const [name, value] of Object.entries(headers ?? {})) total += Buffer.byteLength(name) + Buffer.byteLength(String(value)) + 4;
  return total;
}

/** Estimated size of a message made of these headers and body, framing included. */
export function messageBytes(headers: Readonly<Record<string, string>> | undefined, body: string | undefined): number {
  return headerBytes(headers) + (body ? Buffer.byteLength(body) : 0) + FRAMING_ALLOWANCE_BYTES;
}

export function fits(headers: Readonly<Record<string, string>> | undefined, body: string | undefined, maxBytes: number): boolean {
  return messageBytes(headers, body) <= maxBytes;
}

/** Raised where a message from one leg would be too large to hand drachtio-server for the other. */
export class MessageTooLargeError extends Error {
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`message of ~${bytes} bytes over the ${maxBytes}-byte limit`);
    this.name = 'MessageTooLargeError';
  }
}
