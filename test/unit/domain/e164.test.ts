import { describe, expect, it } from 'vitest';
import { isCountryCode, isE164, normaliseNumber } from '../../../src/domain/e164.js';

describe('normaliseNumber', () => {
  it.each([
    ['separators and parentheses', '+1 (555) 000-1001', undefined, '+15550001001'],
    ['dots and slashes', '+44 20/7123.4567', undefined, '+442071234567'],
    ['international digits without "+"', '15550001001', undefined, '+15550001001'],
    ['tel: URI with visual separators', 'tel:+1-555-000-1001', undefined, '+15550001001'],
    ['TEL: in upper case', 'TEL:+15550001001', undefined, '+15550001001'],
    ['percent-encoded "+"', '%2B15550001001', undefined, '+15550001001'],
    ['surrounding whitespace', '  +15550001001 ', undefined, '+15550001001'],
    ['national number with phone-context', '02071234567;phone-context=+44', undefined, '+442071234567'],
    ['tel: with phone-context', 'tel:020-7123-4567;phone-context=+44', undefined, '+442071234567'],
    ['phone-context written with separators', '02071234567;phone-context=+4-4', undefined, '+442071234567'],
    ['national number with trunk prefix and default country', '02071234567', 'GB', '+442071234567'],
    ['national number without trunk prefix and default country', '2071234567', 'GB', '+442071234567'],
    ['US national number with default country', '4155550100', 'US', '+14155550100'],
    ['"+" numbers ignore the default country', '+15550001001', 'GB', '+15550001001'],
  ] as const)('%s: %s -> %s', (_name, raw, country, e164) => {
    expect(normaliseNumber(raw, country)?.e164).toBe(e164);
  });

  it.each([
    ['letters', 'abc'],
    ['empty', ''],
    ['lone plus', '+'],
    ['too short', '12'],
    ['too long (16 digits)', '+1555000100112345'],
    ['far too long', '1'.repeat(30)],
    ['broken percent-encoding', '%E0%A4%A'],
    ['digits mixed with letters', '+1555CALLNOW'],
    ['sip user name', 'alice'],
  ])('%s (%j) is not a number', (_name, raw) => {
    expect(normaliseNumber(raw)).toBeNull();
  });

  it('reports the country of a valid number', () => {
    expect(normaliseNumber('+442071234567')?.country).toBe('GB');
  });

  it('answers a repeated number the same way, per default country', () => {
    expect(normaliseNumber('2071234567', 'GB')?.e164).toBe('+442071234567');
    expect(normaliseNumber('2071234567', 'US')?.e164).not.toBe('+442071234567');
    expect(normaliseNumber('2071234567', 'GB')?.e164).toBe('+442071234567');
    expect(normaliseNumber('abc', 'GB')).toBeNull();
    expect(normaliseNumber('abc', 'GB')).toBeNull();
    expect(normaliseNumber(`${'1'.repeat(70)}`)).toBeNull();
  });
});

describe('isE164', () => {
  it.each([
    ['+15550001001', true],
    ['+442071234567', true],
    ['+123456789012345', true],
    ['+1234567890123456', false],
    ['15550001001', false],
    ['+05550001001', false],
    ['+1 555 000 1001', false],
    ['+', false],
    ['', false],
  ])('%j -> %s', (value, expected) => {
    expect(isE164(value)).toBe(expected);
  });
});

describe('isCountryCode', () => {
  it.each([
    ['GB', true],
    ['US', true],
    ['DE', true],
    ['gb', false],
    ['UK', false],
    ['*', false],
    ['', false],
    ['GBR', false],
  ])('%j -> %s', (value, expected) => {
    expect(isCountryCode(value)).toBe(expected);
  });
});
