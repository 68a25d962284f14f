/** Where a JSON text first nests deeper than allowed. */
export interface DepthExceeded {
  /** dotted path of the container that goes one level too deep ("a.b.0"; "(body)" at the top) */
  readonly path: string;
  /** offset of its opening bracket in the text */
  readonly offset: number;
}

interface Frame {
  readonly object: boolean;
  key: string;
  index: number;
  expectKey: boolean;
}

const MAX_SEGMENT = 64;
const MAX_PATH = 512;

function pathOf(stack: readonly Frame[]): string {
  if (stack.length === 0) return '(body)';
  const path = stack.map((f) => (f.object ? (f.key.length > MAX_SEGMENT ? `${f.key.slice(0, MAX_SEGMENT)}…` : f.key) : String(f.index))).join('.');
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

/** The index of the quote closing the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1) {
    let backslashes = 0;
    for (let k = at - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}

function keyText(raw: string): string {
  if (!raw.includes('\\')) return raw.slice(1, -1);
  try {
    return String(JSON.parse(raw));
  } catch {
    return raw.slice(1, -1);
  }
}

/**
 * Scans a JSON text once, without recursion and without building it, and reports the first
 * container nested deeper than `maxDepth` (the top-level object or array is depth 1), or null.
 * Strings are skipped whole, so brackets inside them do not count. The text is not validated:
 * what is not JSON is left to the parser that runs after this check.
 */
export function findExcessDepth(text: string, maxDepth: number): DepthExceeded | null {
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x22: {
        // "
        const end = closingQuote(text, i);
        if (end === -1) return null;
        const top = stack[stack.length - 1];
        if (top?.object && top.expectKey) {
          top.key = keyText(text.slice(i, end + 1));
          top.expectKey = false;
        }
        i = end;
        break;
      }
      case 0x7b: // {
      case 0x5b: // [
        if (stack.length >= maxDepth) return { path: pathOf(stack), offset: i };
        stack.push({ object: c === 0x7b, key: '', index: 0, expectKey: c === 0x7b });
        break;
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        break;
      case 0x2c: {
        // ,
        const top = stack[stack.length - 1];
        if (top?.object) top.expectKey = true;
        else if (top) top.index++;
        break;
      }
      default:
        break;
    }
  }
  return null;
}
