import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SIP digest authentication (RFC 2617 / RFC 3261 22.4, MD5, qop=auth) for trunks with inbound
 * credentials. Nonces are stateless: a timestamp signed with the edge's secret, so any instance
 * sharing the secret can verify a nonce another one issued.
 */
export interface DigestParams {
  readonly [name: string]: string | undefined;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export function parseDigest(header: string | undefined): DigestParams | null {
  if (!header) return null;
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let part: RegExpExecArray | null;
  while ((part = re.exec(m[1]!)) !== null) params[part[1]!.toLowerCase()] = part[2] ?? part[3] ?? '';
  return params;
}

export class DigestAuthenticator {
  private readonly secret: Buffer;

  constructor(
    readonly realm: string,
    secret: string | undefined,
    private readonly nonceTtlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  nonce(): string {
    const ts = this.now().toString(36);
    return `${ts}.${this.sign(ts)}`;
  }

  challenge(): string {
    return `Digest realm="${this.realm}", nonce="${this.nonce()}", algorithm=MD5, qop="auth"`;
  }

  /** ok, or why not: 'missing' (send a challenge), 'stale' (challenge again), 'invalid' (refuse). */
  verify(header: string | undefined, method: string, credentials: { username: string; password: string }): 'ok' | 'missing' | 'stale' | 'invalid' {
    const p = parseDigest(header);
    if (!p || !p.nonce || !p.response || !p.uri) return 'missing';
    if (p.username !== credentials.username || p.realm !== this.realm) return 'invalid';
    const [ts, sig] = p.nonce.split('.');
    if (!ts || !sig || !this.equal(sig, this.sign(ts))) return 'invalid';
    if (this.now() - parseInt(ts, 36) > this.nonceTtlMs) return 'stale';
    const ha1 = md5(`${credentials.username}:${this.realm}:${credentials.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const expected = p.qop
      ? md5(`${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`)
      : md5(`${ha1}:${p.nonce}:${ha2}`);
    return this.equal(expected, p.response.toLowerCase()) ? 'ok' : 'invalid';
  }

  private sign(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('hex').slice(0, 32);
  }

  private equal(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }
}

/** The client side (tests, tools): the Proxy-Authorization value answering a challenge. */
export function digestResponse(challenge: string, method: string, uri: string, username: string, password: string): string {
  const p = parseDigest(challenge) ?? {};
  const realm = p.realm ?? '';
  const nonce = p.nonce ?? '';
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${username}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}
