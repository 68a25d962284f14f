import { describe, expect, it } from 'vitest';
import { canonicalAddress, CidrMatcher, parseCidr } from '../../../src/domain/cidr.js';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['192.0.2.10', { address: '192.0.2.10', prefix: 32, family: 'ipv4' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
    [' 192.0.2.0/24 ', { address: '192.0.2.0', prefix: 24, family: 'ipv4' }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['2001:db8::1', { address: '2001:db8::1', prefix: 128, family: 'ipv6' }],
    ['::/0', { address: '::', prefix: 0, family: 'ipv6' }],
  ])('%j', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/-1',
    '10.0.0.0/ab',
    '10.0.0.0/8.5',
    '10.0.0.0/ 8',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '1.2.3',
    '256.0.0.1',
    '2001:db8::/129',
    'example.com',
    '',
  ])('%j is refused', (text) => {
    expect(parseCidr(text)).toBeNull();
  });
});

describe('canonicalAddress', () => {
  it.each([
    ['192.0.2.10', { address: '192.0.2.10', family: 'ipv4' }],
    ['::ffff:127.0.0.5', { address: '127.0.0.5', family: 'ipv4' }],
    ['::FFFF:192.0.2.10', { address: '192.0.2.10', family: 'ipv4' }],
    ['[::1]', { address: '::1', family: 'ipv6' }],
    ['2001:db8::5', { address: '2001:db8::5', family: 'ipv6' }],
    ['fe80::1%eth0', { address: 'fe80::1', family: 'ipv6' }],
    ['[fe80::1%25eth0]', { address: 'fe80::1', family: 'ipv6' }],
  ])('%j', (text, expected) => {
    expect(canonicalAddress(text)).toEqual(expected);
  });

  it.each(['', 'carrier.example.com', '1.2.3', '[]', '::ffff:999.0.0.1'])('%j is not an address', (text) => {
    expect(canonicalAddress(text)).toBeNull();
  });
});

describe('CidrMatcher', () => {
  const matcher = new CidrMatcher<string>();
  matcher.add('192.0.2.0/24', 'carrier');
  matcher.add('192.0.2.77', 'customer-pbx'); // a /32 inside the carrier's /24
  matcher.add('198.51.100.0/25', 'small');
  matcher.add('198.51.100.0/24', 'big'); // added after the narrower one: order must not matter
  matcher.add('2001:db8::/32', 'v6-carrier');
  matcher.add('2001:db8:1::/48', 'v6-customer');

  it.each([
    ['192.0.2.10', 'carrier'],
    ['192.0.2.77', 'customer-pbx'],
    ['198.51.100.5', 'small'],
    ['198.51.100.200', 'big'],
    ['::ffff:192.0.2.10', 'carrier'],
    ['::ffff:192.0.2.77', 'customer-pbx'],
    ['2001:db8:2::1', 'v6-carrier'],
    ['2001:db8:1::1', 'v6-customer'],
    ['[2001:db8:1::1]', 'v6-customer'],
    ['203.0.113.1', undefined],
    ['2001:db9::1', undefined],
    ['not an address', undefined],
  ])('%s -> %s', (source, owner) => {
    expect(matcher.match(source)).toBe(owner);
  });

  it('refuses an invalid CIDR', () => {
    expect(() => new CidrMatcher<string>().add('10.0.0.0/33', 'x')).toThrow(/10\.0\.0\.0\/33/);
  });

  it('counts its entries', () => {
    expect(matcher.size).toBe(6);
  });

  it('answers a repeated source the same, and a list added later changes the answer', () => {
    const m = new CidrMatcher<string>();
    m.add('192.0.2.0/24', 'carrier');
    expect(m.match('192.0.2.77')).toBe('carrier');
    expect(m.match('192.0.2.77')).toBe('carrier');
    expect(m.match('203.0.113.9')).toBeUndefined();
    expect(m.match('203.0.113.9')).toBeUndefined();
    m.add('192.0.2.77', 'customer-pbx');
    m.add('203.0.113.0/24', 'late');
    expect(m.match('192.0.2.77')).toBe('customer-pbx');
    expect(m.match('203.0.113.9')).toBe('late');
  });

  it('stays right past the number of sources it remembers', () => {
    const m = new CidrMatcher<string>();
    m.add('10.0.0.0/8', 'private');
    for (let i = 0; i < 12_000; i++) expect(m.match(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)).toBe('private');
    expect(m.match('10.0.0.0')).toBe('private');
    expect(m.match('11.0.0.1')).toBeUndefined();
  });
});
