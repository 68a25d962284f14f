import { describe, expect, it } from 'vitest';
import { sdpOfBody, type BodySdp } from '../../../src/domain/body.js';

const CRLF = '\r\n';
const lines = (...l: string[]): string => l.join(CRLF);
const SDP = lines('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 49170 RTP/AVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETKEYSECRETKEYSECRETKEYSECRETKEY12', '');
const ISUP = '\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00';

const part = (headers: string[], body: string) => lines(...headers, '', body);
const multipart = (boundary: string, ...parts: string[]) => [...parts.map((p) => `--${boundary}${CRLF}${p}`), `--${boundary}--${CRLF}`].join(CRLF);

const sdpPart = part(['Content-Type: application/sdp'], SDP);
const isupPart = part(['Content-Type: application/isup;version=itu-t92+', 'Content-Disposition: signal;handling=optional'], ISUP);

describe('sdpOfBody: the SDP of a request body', () => {
  it.each<[string, string | undefined, string | undefined, BodySdp]>([
    ['application/sdp', 'application/sdp', SDP, { kind: 'sdp', sdp: SDP, others: [] }],
    ['Application/SDP with parameters', 'Application/SDP; charset=utf-8', SDP, { kind: 'sdp', sdp: SDP, others: [] }],
    ['a body without Content-Type (read as SDP)', undefined, SDP, { kind: 'sdp', sdp: SDP, others: [] }],
    ['no body (late offer)', undefined, undefined, { kind: 'none' }],
    ['an empty body with a Content-Type', 'application/sdp', '', { kind: 'none' }],
    ['an empty multipart body', 'multipart/mixed;boundary=xyz', CRLF, { kind: 'none' }],
    ['SDP beside ISUP', 'multipart/mixed;boundary=xyz', multipart('xyz', sdpPart, isupPart), { kind: 'sdp', sdp: SDP, others: ['application/isup'] }],
    ['ISUP before SDP', 'multipart/mixed;boundary=xyz', multipart('xyz', isupPart, sdpPart), { kind: 'sdp', sdp: SDP, others: ['application/isup'] }],
    ['a quoted boundary, upper-case type', 'MULTIPART/MIXED; boundary="unique-boundary-1"', multipart('unique-boundary-1', sdpPart, isupPart), { kind: 'sdp', sdp: SDP, others: ['application/isup'] }],
    ['an upper-case part Content-Type', 'multipart/mixed;boundary=xyz', multipart('xyz', part(['content-type: APPLICATION/SDP'], SDP)), { kind: 'sdp', sdp: SDP, others: [] }],
    ['SDP with Content-Disposition session', 'multipart/mixed;boundary=xyz', multipart('xyz', part(['Content-Type: application/sdp', 'Content-Disposition: session;handling=required'], SDP)), { kind: 'sdp', sdp: SDP, others: [] }],
    [
      'an early-session SDP left out beside the session one',
      'multipart/mixed;boundary=xyz',
      multipart('xyz', part(['Content-Type: application/sdp', 'Content-Disposition: early-session'], 'v=0'), sdpPart),
      { kind: 'sdp', sdp: SDP, others: ['application/sdp'] },
    ],
    ['ISUP without Content-Disposition (carriers omit it)', 'multipart/mixed;boundary=xyz', multipart('xyz', sdpPart, part(['Content-Type: application/isup'], ISUP)), { kind: 'sdp', sdp: SDP, others: ['application/isup'] }],
    ['SDP in 8bit transfer encoding', 'multipart/mixed;boundary=xyz', multipart('xyz', part(['Content-Type: application/sdp', 'Content-Transfer-Encoding: 8BIT'], SDP)), { kind: 'sdp', sdp: SDP, others: [] }],
    ['multipart/alternative too', 'multipart/alternative;boundary=xyz', multipart('xyz', sdpPart), { kind: 'sdp', sdp: SDP, others: [] }],
    ['a part without Content-Type (text/plain) beside SDP', 'multipart/mixed;boundary=xyz', multipart('xyz', part([], 'hello'), sdpPart), { kind: 'sdp', sdp: SDP, others: ['text/plain'] }],
  ])('takes %s', (_name, contentType, body, expected) => {
    expect(sdpOfBody(contentType, body)).toEqual(expected);
  });

  it.each<[string, string, string, 'malformed' | 'unsupported' | 'no_sdp', RegExp]>([
    ['multipart without an SDP part', 'multipart/mixed;boundary=xyz', multipart('xyz', isupPart), 'no_sdp', /without an application\/sdp part \(parts: application\/isup\)/],
    ['multipart with only an early-session SDP', 'multipart/mixed;boundary=xyz', multipart('xyz', part(['Content-Type: application/sdp', 'Content-Disposition: early-session'], SDP)), 'no_sdp', /without an application\/sdp part/],
    ['multipart without a boundary parameter', 'multipart/mixed', multipart('xyz', sdpPart), 'malformed', /without a boundary/],
    ['a boundary that is not in the body', 'multipart/mixed;boundary=abc', multipart('xyz', sdpPart), 'malformed', /no boundary delimiter/],
    ['a truncated multipart body', 'multipart/mixed;boundary=xyz', `--xyz${CRLF}${sdpPart}`, 'malformed', /no closing boundary/],
    ['an unreadable Content-Type', 'application', SDP, 'malformed', /unreadable Content-Type/],
    ['an unreadable part Content-Type', 'multipart/mixed;boundary=xyz', multipart('xyz', part(['Content-Type: sdp'], SDP)), 'malformed', /part 1: unreadable Content-Type/],
    ['a body that is neither SDP nor multipart', 'text/plain', 'hello', 'unsupported', /Content-Type text\/plain is neither/],
    ['an unusable part with handling=required', 'multipart/mixed;boundary=xyz', multipart('xyz', sdpPart, part(['Content-Type: application/isup', 'Content-Disposition: signal; handling=required'], ISUP)), 'unsupported', /part 2 \(application\/isup\) is marked handling=required/],
    ['two session SDP parts', 'multipart/mixed;boundary=xyz', multipart('xyz', sdpPart, sdpPart), 'unsupported', /2 session SDP parts/],
    ['SDP in base64', 'multipart/mixed;boundary=xyz', multipart('xyz', part(['Content-Type: application/sdp', 'Content-Transfer-Encoding: base64'], Buffer.from(SDP).toString('base64'))), 'unsupported', /Content-Transfer-Encoding base64/],
  ])('refuses %s', (_name, contentType, body, problem, detail) => {
    const found = sdpOfBody(contentType, body);
    expect(found).toMatchObject({ kind: 'refused', problem });
    expect(found.kind === 'refused' && found.detail).toMatch(detail);
  });

  it('never puts body content (crypto keys, ISUP) into a refusal detail', () => {
    const refusals = [
      sdpOfBody('multipart/mixed;boundary=xyz', multipart('xyz', isupPart, part(['Content-Type: application/sdp', 'Content-Disposition: early-session'], SDP))),
      sdpOfBody('multipart/mixed;boundary=xyz', multipart('xyz', sdpPart, sdpPart)),
      sdpOfBody('multipart/mixed;boundary=abc', multipart('xyz', sdpPart)),
    ];
    for (const r of refusals) {
      expect(r.kind).toBe('refused');
      expect(JSON.stringify(r)).not.toContain('SECRETKEY');
      expect(JSON.stringify(r)).not.toContain('\\u0001');
    }
  });
});
