/** The URI inside a name-addr header value: `"Bob" <sip:+1555@host>;tag=1` -> `sip:+1555@host`. */
export function uriOfNameAddr(value: string): string {
  // A quoted display name may itself contain "<": skip it before looking for the URI.
  const quoted = /^\s*"(?:[^"\\]|\\.)*"/.exec(value);
  const open = value.indexOf('<', quoted ? quoted[0].length : 0);
  if (open >= 0) {
    const close = value.indexOf('>', open);
    return value.slice(open + 1, close < 0 ? undefined : close).trim();
  }
  return value.split(';')[0]!.trim();
}

/**
 * The user part of a sip:/sips: URI, or the number of a tel: URI (with its parameters, which
 * carry phone-context). Empty when the URI has no user.
 */
export function userOfUri(uri: string): { scheme: string; user: string } {
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(uri.trim());
  if (!m) return { scheme: '', user: '' };
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'tel') return { scheme, user: rest.split('?')[0]! };
  const at = rest.lastIndexOf('@');
  return { scheme, user: at < 0 ? '' : rest.slice(0, at).split(':')[0]! };
}
