import { describe, expect, it } from 'vitest';
import { normaliseDncNumber } from '../../../src/domain/dnc.js';
import { parseDestination } from '../../../src/pipeline/steps/outbound/destination.js';

describe('do-not-call numbers', () => {
  it.each([
    ['+12025550123', undefined, '+12025550123'],
    ['+1 (202) 555-0123', undefined, '+12025550123'],
    ['  +1.202.555.0123 ', undefined, '+12025550123'],
    ['tel:+1-202-555-0123', undefined, '+12025550123'],
    ['12025550123', undefined, '+12025550123'],
    ['%2B442071234567', undefined, '+442071234567'],
    ['020 7123 4567', 'GB', '+442071234567'],
    ['(202) 555-0123', 'US', '+12025550123'],
    ['02071234567;phone-context=+44', undefined, '+442071234567'],
  ] as const)('%j (default country %s) is listed as %s', (raw, country, e164) => {
    expect(normaliseDncNumber(raw, country)).toBe(e164);
  });

  it.each(['', '   ', 'anonymous', '+1', '12', 'x'.repeat(100), '+1 202 555 0123 ext 9', '+1202555012345678'])('%j is no phone number', (raw) => {
    expect(normaliseDncNumber(raw, undefined)).toBeNull();
  });

  it.each([
    ['+1 (202) 555-0123', 'sip:+12025550123@edge'],
    ['12025550123', 'sip:%2B1-202-555-0123@edge'],
    ['020 7123 4567', 'tel:+44-20-7123-4567'],
  ] as const)('a number listed as %j matches a call dialled as %s', (listed, dialled) => {
    const destination = parseDestination(dialled, 'GB');
    expect(destination.kind).toBe('continue');
    expect(normaliseDncNumber(listed, 'GB')).toBe(destination.kind === 'continue' ? destination.value.e164 : 'no');
  });
});
