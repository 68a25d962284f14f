import { describe, expect, it } from 'vitest';
import { uriOfNameAddr, userOfUri } from '../../../src/domain/sipHeaders.js';

describe('uriOfNameAddr', () => {
  it.each([
    ['"Bob" <sip:+15550001001@carrier.example.com>;tag=1928301774', 'sip:+15550001001@carrier.example.com'],
    ['Bob <sip:bob@biloxi.example.com;transport=tcp>;tag=a6c85cf', 'sip:bob@biloxi.example.com;transport=tcp'],
    ['<sip:+15550001001@edge.example.com>', 'sip:+15550001001@edge.example.com'],
    ['sip:+15550001001@edge.example.com;tag=abc', 'sip:+15550001001@edge.example.com'],
    ['  sip:alice@atlanta.example.com  ', 'sip:alice@atlanta.example.com'],
    ['<tel:+1-555-000-1001;phone-context=+1>;tag=x', 'tel:+1-555-000-1001;phone-context=+1'],
    ['"Anonymous" <sips:anonymous@anonymous.invalid>;tag=9', 'sips:anonymous@anonymous.invalid'],
    ['"Sales <EU>" <sip:+442071234567@carrier.example.com>;tag=7', 'sip:+442071234567@carrier.example.com'],
  ])('%s', (value, uri) => {
    expect(uriOfNameAddr(value)).toBe(uri);
  });
});

describe('userOfUri', () => {
  it.each([
    ['sip:+15550001001@edge.example.com', 'sip', '+15550001001'],
    ['SIP:+15550001001@edge.example.com', 'sip', '+15550001001'],
    ['sip:+15550001001@edge.example.com:5060;user=phone', 'sip', '+15550001001'],
    ['sips:alice@atlanta.example.com', 'sips', 'alice'],
    ['sip:alice:secret@atlanta.example.com', 'sip', 'alice'],
    ['sip:02071234567;phone-context=+44@edge.example.com;user=phone', 'sip', '02071234567;phone-context=+44'],
    ['sip:edge.example.com', 'sip', ''],
    ['sip:edge.example.com:5060;transport=tcp', 'sip', ''],
    ['sip:[2001:db8::1]:5060', 'sip', ''],
    ['tel:+1-555-000-1001', 'tel', '+1-555-000-1001'],
    ['tel:02071234567;phone-context=+44', 'tel', '02071234567;phone-context=+44'],
    ['not a uri', '', ''],
    ['', '', ''],
  ])('%s -> %s / %j', (uri, scheme, user) => {
    expect(userOfUri(uri)).toEqual({ scheme, user });
  });
});
