import Srf from 'drachtio-srf';

/** A sip:/sips: URI with a host, as drachtio-srf's own parser reads it. */
export function isSipUri(value: string): boolean {
  if (!/^sips?:/i.test(value) || /\s/.test(value)) return false;
  try {
    const uri = Srf.parseUri(value);
    return Boolean(uri && (uri.scheme === 'sip' || uri.scheme === 'sips') && uri.host);
  } catch {
    return false;
  }
}
