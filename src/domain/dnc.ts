import type { CountryCode } from 'libphonenumber-js';
import { normaliseNumber } from './e164.js';

/** One number on a do-not-call list, as stored and returned. */
export interface DncEntry {
  /** E.164, the form the outbound pipeline compares against */
  readonly phone_number: string;
  /** why it is listed (free text from the operator: "customer request", "TPS"...), or null */
  readonly reason: string | null;
  readonly added_at: string;
}

export const DNC_REASON_MAX = 200;

/**
 * A number as someone typed it on a do-not-call list ("+1 (202) 555-0123", "tel:+44-20-7123-4567",
 * "02071234567" with a default country of GB) to E.164, with the same libphonenumber reading the
 * outbound pipeline gives a dialled destination: a number listed in any notation matches a call to
 * it in any other. null when it is not a possible phone number.
 */
export function normaliseDncNumber(raw: string, defaultCountry: CountryCode | undefined): string | null {
  const text = raw.trim();
  if (text === '' || text.length > 64) return null;
  return normaliseNumber(text, defaultCountry)?.e164 ?? null;
}

/** Where a destination is listed: its workspace's list wins over the platform's in what is reported. */
export type DncListing = 'workspace' | 'platform' | null;
