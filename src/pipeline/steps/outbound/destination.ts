import type { CountryCode } from 'libphonenumber-js';
import { normaliseNumber, type NormalisedNumber } from '../../../domain/e164.js';
import type { TrunkRecord } from '../../../domain/model.js';
import { userOfUri } from '../../../domain/sipHeaders.js';
import { proceed, reject, type Decision } from '../../types.js';

/** Outbound step 3: the dialled destination as E.164, with its country and number type. */
export function parseDestination(requestUri: string, defaultCountry: CountryCode | undefined): Decision<NormalisedNumber> {
  const { user } = userOfUri(requestUri);
  const normalised = user === '' ? null : normaliseNumber(user, defaultCountry);
  if (!normalised) return reject('destination_invalid', `"${user.slice(0, 40)}" is not a phone number`);
  return proceed(normalised);
}

const PREMIUM_TYPES = new Set(['PREMIUM_RATE', 'SHARED_COST']);

/**
 * Outbound step 5: the destination's country is allowed by the trunk and by the workspace
 * ("*" = worldwide), and premium-rate / shared-cost numbers are blocked unless the trunk allows.
 */
export function checkDestinationPolicy(destination: NormalisedNumber, trunk: TrunkRecord, workspaceCountries: readonly string[]): Decision<void> {
  for (const [scope, allowed] of [
    [`trunk ${trunk.id}`, trunk.outbound.allowed_countries],
    ['the workspace', workspaceCountries],
  ] as const) {
    if (allowed.includes('*')) continue;
    if (!destination.country || !allowed.includes(destination.country)) {
      return reject('country_not_allowed', `${destination.country ?? 'unknown country'} is not allowed by ${scope}`);
    }
  }
  if (trunk.outbound.block_premium && destination.type !== undefined && PREMIUM_TYPES.has(destination.type)) {
    return reject('premium_not_allowed', `${destination.type.toLowerCase()} destination blocked on trunk ${trunk.id}`);
  }
  return proceed(undefined);
}
