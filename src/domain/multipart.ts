/**
 * MIME media types (RFC 2045 §5.1, as SIP writes them in RFC 3261 §20.15) and multipart bodies
 * (RFC 2046 §5.1), read from the text drachtio hands over. Small on purpose: SIP bodies are a few
 * KB with two or three parts; the npm multipart parsers are built for HTTP form uploads and refuse
 * a preamble or transport padding, which RFC 2046 allows.
 */

export interface MediaType {
  /** lower case */
  readonly type: string;
  /** lower case */
  readonly subtype: string;
  /** parameter names lower case, values unquoted */
  readonly params: ReadonlyMap<string, string>;
}

export interface BodyPart {
  /** header names lower case, folded lines joined */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 2046 bchars: 1 to 70 of them, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
/** Parts one SIP body may have; SDP beside ISUP is two. */
export const MAX_PARTS = 16;

/** Splits `a; b="x;y"; c` at the semicolons outside quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return [];
  out.push(value.slice(start));
  return out;
}

function unquote(raw: string): string | null {
  if (!raw.startsWith('"')) return raw;
  if (raw.length < 2 || !raw.endsWith('"')) return null;
  return raw.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * `multipart/mixed;boundary="b1"` -> type, subtype and parameters; null when it cannot be read
 * (no type/subtype, an unterminated quote, a parameter without `=`, or one named twice).
 * Unquoted values are taken up to the next `;` as sent, so `boundary=----=_Part_1` (not a token,
 * but common) still reads.
 */
export function parseMediaType(value: string): MediaType | null {
  const [head, ...rest] = splitParams(value);
  if (head === undefined) return null;
  const slash = head.indexOf('/');
  const type = head.slice(0, slash).trim().toLowerCase();
  const subtype = head.slice(slash + 1).trim().toLowerCase();
  if (slash === -1 || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  const params = new Map<string, string>();
  for (const segment of rest) {
    if (segment.trim() === '') continue;
    const eq = segment.indexOf('=');
    const name = segment.slice(0, eq).trim().toLowerCase();
    const raw = unquote(segment.slice(eq + 1).trim());
    if (eq === -1 || !TOKEN.test(name) || raw === null || params.has(name)) return null;
    params.set(name, raw);
  }
  return { type, subtype, params };
}

export const essence = (m: MediaType): string => `${m.type}/${m.subtype}`;

/** The headers and the content of one body part; a part may have no headers, or no content. */
function parsePart(text: string, index: number): BodyPart {
  let headerText: string;
  let body: string;
  const leading = /^\r?\n/.exec(text);
  if (leading) {
    headerText = '';
    body = text.slice(leading[0].length);
  } else {
    const blank = /\r?\n\r?\n/.exec(text);
    headerText = blank ? text.slice(0, blank.index) : text;
    body = blank ? text.slice(blank.index + blank[0].length) : '';
  }
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (const line of headerText.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== null) {
      headers.set(last, `${headers.get(last)!} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon === -1 || !TOKEN.test(name)) throw new MultipartError(`part ${index + 1}: unreadable header line`);
    headers.set(name, line.slice(colon + 1).trim());
    last = name;
  }
  return { headers, body };
}

/**
 * The body parts of a multipart body (RFC 2046 §5.1.1). A delimiter is `--boundary` at the start
 * of a line, followed by optional spaces/tabs and a line break; the line break before it belongs
 * to it. The preamble before the first delimiter and the epilogue after `--boundary--` are
 * ignored. Line breaks may be CRLF or bare LF. Throws MultipartError when the boundary is not a
 * valid one, no delimiter is found, the closing delimiter is missing, there is no part or more
 * than `maxParts`, or a part header cannot be read.
 */
export function parseMultipart(text: string, boundary: string, maxParts = MAX_PARTS): BodyPart[] {
  if (!BOUNDARY.test(boundary)) throw new MultipartError('the boundary parameter is not a valid boundary (1-70 characters of RFC 2046 bchars)');
  const dash = `--${boundary}`;
  const contents: [number, number][] = [];
  let partStart = -1;
  let closed = false;
  for (let at = text.indexOf(dash); at !== -1; at = text.indexOf(dash, at + 1)) {
    if (at > 0 && text[at - 1] !== '\n') continue;
    const after = at + dash.length;
    const isClose = text.startsWith('--', after);
    let next = -1;
    if (!isClose) {
      const padded = /^[ \t]*\r?\n/.exec(text.slice(after, after + 80));
      if (!padded) continue; // "--boundaryX...": a line of content, not a delimiter
      next = after + padded[0].length;
    }
    if (partStart !== -1) {
      const end = at - (text[at - 2] === '\r' ? 2 : 1);
      contents.push([partStart, Math.max(partStart, end)]);
      if (contents.length > maxParts) throw new MultipartError(`more than ${maxParts} body parts`);
    }
    if (isClose) {
      closed = true;
      break;
    }
    partStart = next;
  }
  if (partStart === -1 && !closed) throw new MultipartError('no boundary delimiter in the body');
  if (!closed) throw new MultipartError('no closing boundary delimiter (truncated body?)');
  if (contents.length === 0) throw new MultipartError('no body parts');
  return contents.map(([start, end], i) => parsePart(text.slice(start, end), i));
}
