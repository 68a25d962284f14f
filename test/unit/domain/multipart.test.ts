import { describe, expect, it } from 'vitest';
import { MultipartError, parseMediaType, parseMultipart, MAX_PARTS } from '../../../src/domain/multipart.js';

const CRLF = '\r\n';
const lines = (...l: string[]): string => l.join(CRLF);

describe('parseMediaType', () => {
  it.each<[string, string, string, Record<string, string>]>([
    ['a plain type', 'application/sdp', 'application/sdp', {}],
    ['upper case type and parameter name', 'Multipart/MIXED; BOUNDARY=xyz', 'multipart/mixed', { boundary: 'xyz' }],
    ['no space after the semicolon', 'multipart/mixed;boundary=xyz', 'multipart/mixed', { boundary: 'xyz' }],
    ['spaces around = and ;', 'multipart/mixed ; boundary = xyz ; x=1', 'multipart/mixed', { boundary: 'xyz', x: '1' }],
    ['a quoted boundary with spaces and a semicolon', 'multipart/mixed; boundary="b 1;x"', 'multipart/mixed', { boundary: 'b 1;x' }],
    ['a quoted-pair inside quotes', 'multipart/mixed; boundary="a\\"b"', 'multipart/mixed', { boundary: 'a"b' }],
    ['an unquoted boundary with = (not a token, common in the field)', 'multipart/mixed;boundary=----=_Part_0_1', 'multipart/mixed', { boundary: '----=_Part_0_1' }],
    ['a value keeping its case', 'multipart/mixed;boundary=AbC', 'multipart/mixed', { boundary: 'AbC' }],
    ['a trailing semicolon', 'application/sdp;', 'application/sdp', {}],
    ['spaces around the slash', ' application / sdp ', 'application/sdp', {}],
  ])('reads %s', (_name, value, essence, params) => {
    const parsed = parseMediaType(value);
    expect(parsed && `${parsed.type}/${parsed.subtype}`).toBe(essence);
    expect(Object.fromEntries(parsed!.params)).toEqual(params);
  });

  it.each([
    ['no slash', 'sdp'],
    ['an empty subtype', 'application/'],
    ['an empty string', ''],
    ['an unterminated quote', 'multipart/mixed; boundary="xyz'],
    ['a parameter without =', 'multipart/mixed; boundary'],
    ['a parameter named twice', 'multipart/mixed; boundary=a; boundary=b'],
    ['a space inside the type', 'multi part/mixed'],
  ])('refuses %s', (_name, value) => {
    expect(parseMediaType(value)).toBeNull();
  });
});

describe('parseMultipart (RFC 2046 5.1.1)', () => {
  const sdpPart = lines('Content-Type: application/sdp', '', 'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-');
  const isupPart = lines('Content-Type: application/ISUP;version=itu-t92+', 'Content-Disposition: signal;handling=optional', '', '\x01\x00\x49\x00\x00\x03\x02\x00\x07');

  it.each<[string, string, string, { headers: Record<string, string>; body: string }[]]>([
    [
      'two parts and a final CRLF',
      'xyz',
      lines('--xyz', sdpPart, '--xyz', isupPart, '--xyz--', ''),
      [
        { headers: { 'content-type': 'application/sdp' }, body: lines('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-') },
        { headers: { 'content-type': 'application/ISUP;version=itu-t92+', 'content-disposition': 'signal;handling=optional' }, body: '\x01\x00\x49\x00\x00\x03\x02\x00\x07' },
      ],
    ],
    [
      'a preamble and an epilogue',
      'b1',
      lines('This is a preamble.', '--b1', sdpPart, '--b1--', 'epilogue --b1', 'more'),
      [{ headers: { 'content-type': 'application/sdp' }, body: lines('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-') }],
    ],
    [
      'a part body ending in CRLF keeps it (the last CRLF belongs to the delimiter)',
      'b',
      lines('--b', 'Content-Type: application/sdp', '', 'v=0', '', '--b--'),
      [{ headers: { 'content-type': 'application/sdp' }, body: `v=0${CRLF}` }],
    ],
    [
      'transport padding after a delimiter',
      'b',
      ['--b \t', 'Content-Type: text/plain', '', 'hi', '--b--  '].join(CRLF),
      [{ headers: { 'content-type': 'text/plain' }, body: 'hi' }],
    ],
    ['bare LF line ends', 'b', ['--b', 'Content-Type: text/plain', '', 'hi', '--b--', ''].join('\n'), [{ headers: { 'content-type': 'text/plain' }, body: 'hi' }]],
    ['a part without headers', 'b', lines('--b', '', 'just text', '--b--'), [{ headers: {}, body: 'just text' }]],
    ['an empty part', 'b', lines('--b', '--b--'), [{ headers: {}, body: '' }]],
    ['headers and no body', 'b', lines('--b', 'Content-Type: text/plain', '--b--'), [{ headers: { 'content-type': 'text/plain' }, body: '' }]],
    ['folded header lines and upper-case names', 'b', lines('--b', 'CONTENT-TYPE: application/sdp;', '  charset=utf-8', '', 'x', '--b--'), [{ headers: { 'content-type': 'application/sdp; charset=utf-8' }, body: 'x' }]],
    [
      'a line starting with the boundary that is not a delimiter',
      'b',
      lines('--b', 'Content-Type: text/plain', '', '--bx is content', 'and --b too', '--b--'),
      [{ headers: { 'content-type': 'text/plain' }, body: lines('--bx is content', 'and --b too') }],
    ],
    ['a boundary with spaces and specials', "'()+_,-./:=? x", lines("--'()+_,-./:=? x", '', 'a', "--'()+_,-./:=? x--"), [{ headers: {}, body: 'a' }]],
    [
      'a boundary starting with dashes',
      '--==x',
      lines('----==x', 'Content-Type: text/plain', '', 'a', '----==x--'),
      [{ headers: { 'content-type': 'text/plain' }, body: 'a' }],
    ],
  ])('reads %s', (_name, boundary, text, expected) => {
    const parts = parseMultipart(text, boundary).map((p) => ({ headers: Object.fromEntries(p.headers), body: p.body }));
    expect(parts).toEqual(expected);
  });

  it.each([
    ['an empty boundary', '', lines('--', '', 'a', '----'), /not a valid boundary/],
    ['a boundary over 70 characters', 'b'.repeat(71), lines(`--${'b'.repeat(71)}`, '', 'a'), /not a valid boundary/],
    ['a boundary ending in a space', 'b ', lines('--b ', '', 'a', '--b --'), /not a valid boundary/],
    ['a boundary with a forbidden character', 'b;c', lines('--b;c', '', 'a', '--b;c--'), /not a valid boundary/],
    ['no delimiter at all', 'xyz', lines('v=0', 's=-'), /no boundary delimiter/],
    ['a boundary other than the one announced', 'xyz', lines('--abc', '', 'a', '--abc--'), /no boundary delimiter/],
    ['a delimiter not at the start of a line', 'xyz', `text --xyz${CRLF}${CRLF}a${CRLF}--xyz--`, /no body parts/],
    ['no closing delimiter (truncated)', 'xyz', lines('--xyz', 'Content-Type: application/sdp', '', 'v=0'), /no closing boundary/],
    ['only a closing delimiter', 'xyz', lines('--xyz--'), /no body parts/],
    ['a header line without a colon', 'xyz', lines('--xyz', 'Content-Type application/sdp', '', 'v=0', '--xyz--'), /part 1: unreadable header/],
    ['too many parts', 'b', lines(...Array.from({ length: MAX_PARTS + 1 }, () => lines('--b', '', 'x')), '--b--'), /more than 16 body parts/],
  ])('refuses %s', (_name, boundary, text, message) => {
    expect(() => parseMultipart(text, boundary)).toThrow(MultipartError);
    expect(() => parseMultipart(text, boundary)).toThrow(message);
  });

  it(`takes exactly ${MAX_PARTS} parts`, () => {
    const text = lines(...Array.from({ length: MAX_PARTS }, (_, i) => lines('--b', '', `part ${i}`)), '--b--');
    expect(parseMultipart(text, 'b').map((p) => p.body)).toEqual(Array.from({ length: MAX_PARTS }, (_, i) => `part ${i}`));
  });
});
