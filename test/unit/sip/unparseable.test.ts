import { describe, expect, it } from 'vitest';
import { firstLineSummary } from '../../../src/sip/unparseable.js';

describe('firstLineSummary', () => {
  it.each([
    ['INVITE  sip:+15550001001@edge SIP/2.0\r\nVia: x\r\n\r\nv=0', 'INVITE  sip:+15550001001@edge SIP/2.0'],
    ['INVITE sip:+1555@edge SIP/2.0\nProxy-Authorization: Digest response="abc"', 'INVITE sip:+1555@edge SIP/2.0'],
    ['INVITE sip:alice:hunter2@edge SIP/2.0\r\n', 'INVITE sip:alice:***@edge SIP/2.0'],
    ['INVITE sips:alice:p%40ss@edge;transport=tls SIP/2.0\r\n', 'INVITE sips:alice:***@edge;transport=tls SIP/2.0'],
    ['OPTIONS sip:edge SIP/2.0\r\n', 'OPTIONS sip:edge SIP/2.0'],
    ['INV\x00ITE\x1b[31m sip:x SIP/2.0\r\n', 'INV?ITE?[31m sip:x SIP/2.0'],
    [`INVITE sip:${'9'.repeat(300)}@edge SIP/2.0\r\n`, `INVITE sip:${'9'.repeat(69)}...`],
    ['x'.repeat(100_000), `${'x'.repeat(80)}...`],
    ['', ''],
  ])('%j -> %j', (text, summary) => {
    expect(firstLineSummary(text)).toBe(summary);
  });

  it('never returns more than 83 characters', () => {
    for (const text of ['a'.repeat(1000), `${'é'.repeat(500)}\r\n`, 'b\r\n'.repeat(1000)]) expect(firstLineSummary(text).length).toBeLessThanOrEqual(83);
  });
});
