import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, serializeError } from '../../../src/observability/logger.js';

/** What a drachtio-srf failure looks like: a SipError with the whole response attached. */
function sipError(): Error {
  const err = Object.assign(new Error('Sip non-success response: 488'), {
    name: 'SipError',
    status: 488,
    reason: 'Not Acceptable Here',
    res: { raw: 'SIP/2.0 488\r\nProxy-Authorization: Digest response="f00d"\r\n\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETKEY', headers: { 'proxy-authorization': 'Digest response="f00d"' } },
    req: { body: 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETKEY' },
  });
  return err;
}

describe('serializeError', () => {
  it('keeps type, message, stack and scalar fields; never attached SIP messages', () => {
    const out = serializeError(sipError());
    expect(out).toMatchObject({ type: 'SipError', message: 'Sip non-success response: 488', status: 488, reason: 'Not Acceptable Here' });
    expect(Object.keys(out).sort()).toEqual(['message', 'reason', 'stack', 'status', 'type']);
    expect(JSON.stringify(out)).not.toMatch(/SECRETKEY|f00d|crypto/);
  });

  it('cuts long messages and follows one level of cause', () => {
    const inner = new Error('x'.repeat(5000));
    const out = serializeError(new Error('outer', { cause: Object.assign(new Error('mid', { cause: inner }), { code: 'ECONNRESET' }) }));
    expect(out.cause).toMatchObject({ message: 'mid', code: 'ECONNRESET' });
    expect((out.cause as Record<string, unknown>).cause).toBeUndefined();
    expect((serializeError(inner).message as string).length).toBe(503);
  });

  it.each([['a string', 'boom', 'boom'], ['an object with a message', { message: 'm', raw: 'SECRETKEY' }, 'm'], ['null', null, 'null']])('%s', (_name, value, message) => {
    expect(serializeError(value)).toEqual({ message });
  });

  it('is what the logger uses for err', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) });
    createLogger('info', stream).error({ err: sipError() }, 'call failed');
    await new Promise((r) => setImmediate(r));
    expect(lines.join('')).toContain('"status":488');
    expect(lines.join('')).not.toContain('SECRETKEY');
  });
});
