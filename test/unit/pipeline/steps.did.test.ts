import type { CountryCode } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { confirmDid, extractCaller, extractDid } from '../../../src/pipeline/steps/did.js';
import { request } from '../support/fakes.js';

const TO_OTHER = '<sip:+19990000000@edge.example.com>';

describe('extractDid (did step)', () => {
  it.each<[string, string, string, CountryCode | undefined, { raw: string; e164: string; read: boolean }]>([
    ['Request-URI user', 'sip:+15550001001@edge.example.com', TO_OTHER, undefined, { raw: '+15550001001', e164: '+15550001001', read: false }],
    ['Request-URI user wins over To', 'sip:+442071234567@edge.example.com;user=phone', TO_OTHER, undefined, { raw: '+442071234567', e164: '+442071234567', read: false }],
    ['To user when the Request-URI has none', 'sip:edge.example.com', '"Sales" <sip:+15550001001@edge.example.com>;tag=1', undefined, { raw: '+15550001001', e164: '+15550001001', read: false }],
    ['tel: Request-URI', 'tel:+1-555-000-1001', TO_OTHER, undefined, { raw: 'tel:+1-555-000-1001', e164: '+15550001001', read: true }],
    ['tel: To when the Request-URI has no user', 'sip:edge.example.com', '<tel:+1-555-000-1001>', undefined, { raw: 'tel:+1-555-000-1001', e164: '+15550001001', read: true }],
    ['phone-context in the user part', 'sip:02071234567;phone-context=+44@edge.example.com;user=phone', TO_OTHER, undefined, { raw: '02071234567;phone-context=+44', e164: '+442071234567', read: true }],
    ['missing "+"', 'sip:15550001001@edge.example.com', TO_OTHER, undefined, { raw: '15550001001', e164: '+15550001001', read: true }],
    ['visual separators', 'sip:+1-555-000-1001@edge.example.com', TO_OTHER, undefined, { raw: '+1-555-000-1001', e164: '+15550001001', read: true }],
    ['percent-encoded "+"', 'sip:%2B15550001001@edge.example.com', TO_OTHER, undefined, { raw: '%2B15550001001', e164: '+15550001001', read: true }],
    ['national number with default country', 'sip:02071234567@edge.example.com', TO_OTHER, 'GB', { raw: '02071234567', e164: '+442071234567', read: true }],
    ['sips: Request-URI', 'sips:+15550001001@edge.example.com', TO_OTHER, undefined, { raw: '+15550001001', e164: '+15550001001', read: false }],
    ['empty tel: Request-URI falls back to To', 'tel:', '<sip:+15550001001@edge.example.com>', undefined, { raw: '+15550001001', e164: '+15550001001', read: false }],
  ])('%s', (_name, requestUri, to, country, expected) => {
    expect(extractDid(request({ requestUri, to }), country)).toEqual({ kind: 'continue', value: expected });
  });

  it.each([
    ['neither Request-URI nor To has a user', 'sip:edge.example.com', '<sip:edge.example.com>'],
    ['the Request-URI user is a name', 'sip:support@edge.example.com', TO_OTHER],
    ['the Request-URI user is too short', 'sip:12@edge.example.com', TO_OTHER],
    ['the To user is a name', 'sip:edge.example.com', '<sip:alice@edge.example.com>'],
    ['an empty tel: URI and a To without user', 'tel:', '<sip:edge.example.com>'],
  ])('%s -> did_invalid', (_name, requestUri, to) => {
    expect(extractDid(request({ requestUri, to }), undefined)).toMatchObject({ kind: 'reject', reason: 'did_invalid' });
  });
});

describe('confirmDid: a DID used as sent, read by libphonenumber', () => {
  const sent = (user: string, raw = user) => ({ raw, e164: user, read: false });

  it.each([
    ['canonical', sent('+15550001001'), { raw: '+15550001001', e164: '+15550001001', read: true }],
    ['national prefix after the country code', sent('+4402071234567'), { raw: '+4402071234567', e164: '+442071234567', read: true }],
    ['tel: keeps its raw form', sent('+15550001001', 'tel:+15550001001'), { raw: 'tel:+15550001001', e164: '+15550001001', read: true }],
  ])('%s', (_name, did, expected) => {
    expect(confirmDid(did)).toEqual({ kind: 'continue', value: expected });
  });

  it('an impossible number -> did_invalid', () => {
    expect(confirmDid(sent('+1617256000'))).toMatchObject({ kind: 'reject', reason: 'did_invalid' });
  });

  it('a DID already read is returned as it is', () => {
    const did = { raw: '02071234567', e164: '+442071234567', read: true };
    expect(confirmDid(did)).toEqual({ kind: 'continue', value: did });
  });
});

describe('extractCaller', () => {
  it.each([
    ['E.164 From', '"Caller" <sip:+15550002002@carrier.example.com>;tag=1', { raw: '+15550002002', e164: '+15550002002' }],
    ['From without "+"', '<sip:15550002002@carrier.example.com>;tag=1', { raw: '15550002002', e164: '+15550002002' }],
    ['tel: From', '<tel:+1-555-000-2002>;tag=1', { raw: '+1-555-000-2002', e164: '+15550002002' }],
    ['anonymous', '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1', { raw: 'anonymous', e164: null }],
    ['From without user', '<sip:carrier.example.com>;tag=1', { raw: '', e164: null }],
  ])('%s', (_name, from, expected) => {
    expect(extractCaller(request({ from }), undefined)).toEqual(expected);
  });
});
