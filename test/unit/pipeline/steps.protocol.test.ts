import { describe, expect, it } from 'vitest';
import { ALLOW_OUTSIDE_DIALOG, checkMethod, checkProtocol, DEFAULT_PROTOCOL_POLICY, optionTags, protocolPolicy } from '../../../src/pipeline/steps/protocol.js';
import type { RejectReason } from '../../../src/pipeline/reasons.js';
import { request, type RequestInit } from '../support/fakes.js';

describe('checkMethod (RFC 3261 8.2.1)', () => {
  it.each(['INVITE', 'OPTIONS', 'options'])('%s is served', (method) => {
    expect(checkMethod(request({ method }))).toEqual({ kind: 'continue', value: method.toUpperCase() });
  });

  it.each(['REGISTER', 'SUBSCRIBE', 'PUBLISH', 'MESSAGE', 'INFO', 'NOTIFY', 'FOO'])('%s -> 405 method_not_allowed with Allow', (method) => {
    const decision = checkMethod(request({ method }));
    expect(decision).toMatchObject({ kind: 'reject', reason: 'method_not_allowed', headers: { Allow: ALLOW_OUTSIDE_DIALOG } });
    expect(ALLOW_OUTSIDE_DIALOG.split(', ')).not.toContain(method);
  });
});

describe('checkProtocol', () => {
  const withTimer = protocolPolicy(['timer', '100REL']);
  it.each<[string, RequestInit, boolean, RejectReason | null, Record<string, string> | undefined]>([
    ['a plain INVITE', {}, true, null, undefined],
    ['Max-Forwards 0 on a request the edge forwards', { headers: { 'Max-Forwards': '0' } }, true, 'too_many_hops', undefined],
    ['Max-Forwards " 0 " with whitespace', { headers: { 'Max-Forwards': ' 0 ' } }, true, 'too_many_hops', undefined],
    ['Max-Forwards 0 on a request the edge answers itself', { headers: { 'Max-Forwards': '0' } }, false, null, undefined],
    ['Max-Forwards 1', { headers: { 'Max-Forwards': '1' } }, true, null, undefined],
    ['Max-Forwards "seventy"', { headers: { 'Max-Forwards': 'seventy' } }, true, 'message_unparseable', undefined],
    ['Max-Forwards -1', { headers: { 'Max-Forwards': '-1' } }, true, 'message_unparseable', undefined],
    ['a tel: Request-URI', { requestUri: 'tel:+15550001001' }, true, null, undefined],
    ['a sips: Request-URI', { requestUri: 'sips:+15550001001@edge.example.com' }, true, null, undefined],
    ['a SIP: Request-URI in capitals', { requestUri: 'SIP:+15550001001@edge.example.com' }, true, null, undefined],
    ['a mailto: Request-URI', { requestUri: 'mailto:ops@example.com' }, true, 'unsupported_uri_scheme', undefined],
    ['an http: Request-URI', { requestUri: 'http://example.com/' }, true, 'unsupported_uri_scheme', undefined],
    ['a Request-URI without a scheme', { requestUri: '+15550001001@edge.example.com' }, true, 'unsupported_uri_scheme', undefined],
    ['Require of a supported tag, in any case', { headers: { Require: 'Timer, 100rel' } }, true, null, undefined],
    ['Require of an unknown tag', { headers: { Require: 'timer, foo' } }, true, 'bad_extension', { Unsupported: 'foo' }],
    ['Require of tags repeated', { headers: { Require: 'foo, foo,bar' } }, true, 'bad_extension', { Unsupported: 'foo, bar' }],
    ['Require with a non-token tag', { headers: { Require: 'x<y>' } }, true, 'bad_extension', { Unsupported: 'invalid-option-tag' }],
    ['an empty Require', { headers: { Require: ' , ' } }, true, null, undefined],
  ])('%s', (_name, init, forwards, reason, headers) => {
    const decision = checkProtocol(request(init), withTimer, { forwards });
    if (reason === null) expect(decision.kind).toBe('continue');
    else expect(decision).toMatchObject({ kind: 'reject', reason, ...(headers ? { headers } : {}) });
  });

  it('supports no option tag by default', () => {
    expect(checkProtocol(request({ headers: { Require: '100rel' } }), DEFAULT_PROTOCOL_POLICY, { forwards: true })).toMatchObject({ reason: 'bad_extension', headers: { Unsupported: '100rel' } });
  });

  it('names at most 8 unsupported tags, each cut to 64 characters', () => {
    const tags = ['a'.repeat(200), ...Array.from({ length: 20 }, (_, i) => `t${i}`)].join(',');
    const decision = checkProtocol(request({ headers: { Require: tags } }), DEFAULT_PROTOCOL_POLICY, { forwards: true });
    const named = decision.kind === 'reject' ? (decision.headers?.Unsupported ?? '').split(', ') : [];
    expect(named).toHaveLength(8);
    expect(named[0]).toBe('a'.repeat(64));
  });

  it('order: Max-Forwards before the scheme before Require', () => {
    const all = request({ requestUri: 'mailto:x@y', headers: { 'Max-Forwards': '0', Require: 'foo' } });
    expect(checkProtocol(all, DEFAULT_PROTOCOL_POLICY, { forwards: true })).toMatchObject({ reason: 'too_many_hops' });
    expect(checkProtocol(all, DEFAULT_PROTOCOL_POLICY, { forwards: false })).toMatchObject({ reason: 'unsupported_uri_scheme' });
  });

  it.each([
    ['100rel', ['100rel']],
    [' timer ,100rel,, ', ['timer', '100rel']],
    ['', []],
  ])('optionTags(%j)', (value, tags) => {
    expect(optionTags(value)).toEqual(tags);
  });
});
