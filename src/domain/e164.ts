import { parsePhoneNumberFromString, getCountries, type CountryCode, type NumberType } from 'libphonenumber-js/max';

export interface NormalisedNumber {
  /** +<country code><subscriber number> */
  readonly e164: string;
  /** ISO 3166 alpha-2 country, when the number is valid enough to tell. */
  readonly country: CountryCode | undefined;
  /** libphonenumber's number type (PREMIUM_RATE, SHARED_COST, MOBILE, ...), when known. */
  readonly type: NumberType;
}

const E164_RE = /^\+[1-9]\d{1,14}$/;
const SEPARATORS_RE = /[\s().\-/]/g;
const COUNTRIES: ReadonlySet<string> = new Set(getCountries());

export function isE164(value: string): boolean {
  return E164_RE.test(value);
}

export function isCountryCode(value: string): value is CountryCode {
  return COUNTRIES.has(value);
}

function fromParsed(parsed: ReturnType<typeof parsePhoneNumberFromString>): NormalisedNumber | null {
  if (!parsed || !parsed.isPossible()) return null;
  const e164 = parsed.number;
  if (!isE164(e164)) return null;
  // The type takes another pass over the number's patterns; only outbound policy asks for it.
  let type: { value: NumberType } | null = null;
  return {
    e164,
    country: parsed.country,
    get type(): NumberType {
      type ??= { value: parsed.getType() };
      return type.value;
    },
  };
}

/**
 * Parsing with libphonenumber costs 20-150 us (the calling number of every call; the called one
 * when it is not already in E.164, or not found), and the same numbers come back call after
 * call: the last MEMO_SIZE answers are kept (oldest out first). Results are read-only, so they are
 * shared. Longer inputs than any phone number in any notation are not kept (the memo stays small
 * whatever a caller sends).
 */
const MEMO_SIZE = 20_000;
const MEMO_MAX_INPUT = 64;
const memo = new Map<string, NormalisedNumber | null>();

/**
 * Turns a dialled number as carriers send it into E.164: "+1 (555) 000-1001", "15550001001",
 * "tel:+1-555-000-1001", "02071234567;phone-context=+44", "%2B15550001001". The country of a number
 * without "+" comes from its phone-context, else the digits are read as an international number,
 * else as a national one of defaultCountry.
 */
export function normaliseNumber(raw: string, defaultCountry?: CountryCode): NormalisedNumber | null {
  if (raw.length > MEMO_MAX_INPUT) return parseNumber(raw, defaultCountry);
  const key = defaultCountry === undefined ? raw : `${defaultCountry}|${raw}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const result = parseNumber(raw, defaultCountry);
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
  memo.set(key, result);
  return result;
}

function parseNumber(raw: string, defaultCountry?: CountryCode): NormalisedNumber | null {
  let text: string;
  try {
    text = decodeURIComponent(raw.trim());
  } catch {
    return null;
  }
  text = text.replace(/^tel:/i, '');
  const [numberPart = '', ...params] = text.split(';');
  const context = params
    .map((p) => p.split('='))
    .find(([name]) => name?.trim().toLowerCase() === 'phone-context')?.[1]
    ?.trim();
  const compact = numberPart.replace(SEPARATORS_RE, '');
  if (!/^\+?\d{2,17}$/.test(compact)) return null;

  if (compact.startsWith('+')) return fromParsed(parsePhoneNumberFromString(compact));

  if (context?.startsWith('+')) {
    const callingCode = context.replace(SEPARATORS_RE, '').slice(1);
    if (!/^\d{1,3}$/.test(callingCode)) {
      // A longer global prefix: RFC 3966 says the local number follows it.
      return fromParsed(parsePhoneNumberFromString(`+${callingCode}${compact}`));
    }
    return fromParsed(parsePhoneNumberFromString(compact, { defaultCallingCode: callingCode }));
  }

  // Without "+": a valid national number of the default country wins (2071234567 in GB is
  // London, not Egypt); otherwise the digits are read as an international number.
  if (defaultCountry) {
    const national = parsePhoneNumberFromString(compact, defaultCountry);
    if (national?.isValid()) return fromParsed(national);
  }
  const international = fromParsed(parsePhoneNumberFromString(`+${compact}`));
  if (international || !defaultCountry) return international;
  return fromParsed(parsePhoneNumberFromString(compact, defaultCountry));
}
