import { essence, MultipartError, parseMediaType, parseMultipart, type BodyPart } from './multipart.js';

/** Why a body gives no usable SDP offer. */
export type BodyProblem =
  /** the Content-Type or the multipart structure cannot be read */
  | 'malformed'
  /** a body type the edge does not take, or a part it cannot use that says handling=required */
  | 'unsupported'
  /** a multipart body without a session SDP part */
  | 'no_sdp';

export type BodySdp =
  /** `others`: media types of the parts that were left out (never passed on) */
  | { readonly kind: 'sdp'; readonly sdp: string; readonly others: readonly string[] }
  /** no body: a late offer */
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly problem: BodyProblem; readonly detail: string };

/** What an INVITE body may be; a 415 lists it in Accept. */
export const ACCEPTED_BODY_TYPES = 'application/sdp, multipart/*';

/** Content-Transfer-Encodings that leave the text as it is (RFC 2045 §6.1). */
const IDENTITY_ENCODINGS: ReadonlySet<string> = new Set(['7bit', '8bit', 'binary']);

const cut = (text: string): string => (text.length > 64 ? `${text.slice(0, 64)}…` : text);

/** Content-Disposition's type and its handling parameter (RFC 3261 §20.11), lower case. */
function disposition(part: BodyPart): { type: string | null; required: boolean } {
  const value = part.headers.get('content-disposition');
  if (value === undefined) return { type: null, required: false };
  const [type = '', ...params] = value.split(';').map((s) => s.trim().toLowerCase());
  const required = params.some((p) => /^handling\s*=\s*"?required"?$/.test(p));
  return { type: type || null, required };
}

function sdpOfMultipart(body: string, boundary: string | undefined): BodySdp {
  if (boundary === undefined || boundary === '') return { kind: 'refused', problem: 'malformed', detail: 'multipart body without a boundary parameter' };
  let parts: BodyPart[];
  try {
    parts = parseMultipart(body, boundary);
  } catch (err) {
    if (err instanceof MultipartError) return { kind: 'refused', problem: 'malformed', detail: `multipart body: ${err.message}` };
    throw err;
  }
  const sessions: BodyPart[] = [];
  const others: string[] = [];
  for (const [i, part] of parts.entries()) {
    const declared = part.headers.get('content-type');
    // RFC 2046 §5.1: a part without Content-Type is text/plain
    const type = declared === undefined ? { type: 'text', subtype: 'plain', params: new Map() } : parseMediaType(declared);
    if (type === null) return { kind: 'refused', problem: 'malformed', detail: `part ${i + 1}: unreadable Content-Type` };
    const { type: dispositionType, required } = disposition(part);
    // application/sdp is the session description unless its disposition says otherwise (early-session, render...)
    const isSession = essence(type) === 'application/sdp' && (dispositionType === null || dispositionType === 'session');
    if (isSession) {
      const encoding = part.headers.get('content-transfer-encoding')?.trim().toLowerCase();
      if (encoding !== undefined && !IDENTITY_ENCODINGS.has(encoding)) {
        return { kind: 'refused', problem: 'unsupported', detail: `part ${i + 1}: SDP in Content-Transfer-Encoding ${cut(encoding)}` };
      }
      sessions.push(part);
      continue;
    }
    // Unused parts are left out. The RFC 3261 default handling is "required", but carriers omit
    // Content-Disposition on ISUP all the time; only an explicit handling=required refuses (415).
    if (required) return { kind: 'refused', problem: 'unsupported', detail: `part ${i + 1} (${cut(essence(type))}) is marked handling=required` };
    others.push(essence(type));
  }
  if (sessions.length === 0) {
    return { kind: 'refused', problem: 'no_sdp', detail: `multipart body without an application/sdp part (parts: ${others.map(cut).join(', ')})` };
  }
  if (sessions.length > 1) return { kind: 'refused', problem: 'unsupported', detail: `multipart body with ${sessions.length} session SDP parts` };
  return { kind: 'sdp', sdp: sessions[0]!.body, others };
}

/**
 * The SDP offer of a request body: the body itself when it is application/sdp, the one session
 * application/sdp part of a multipart body (SDP beside ISUP), nothing for an empty body (late
 * offer), or a refusal. A body without Content-Type is read as SDP (what the edge always did;
 * the SDP check refuses what is not). Never puts body content into a detail.
 */
export function sdpOfBody(contentType: string | undefined, body: string | undefined): BodySdp {
  if (body === undefined || body.trim() === '') return { kind: 'none' };
  if (contentType === undefined || contentType.trim() === '') return { kind: 'sdp', sdp: body, others: [] };
  const type = parseMediaType(contentType);
  if (type === null) return { kind: 'refused', problem: 'malformed', detail: 'unreadable Content-Type' };
  if (essence(type) === 'application/sdp') return { kind: 'sdp', sdp: body, others: [] };
  if (type.type === 'multipart') return sdpOfMultipart(body, type.params.get('boundary'));
  return { kind: 'refused', problem: 'unsupported', detail: `Content-Type ${cut(essence(type))} is neither application/sdp nor multipart` };
}
