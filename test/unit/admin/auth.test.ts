import { describe, expect, it } from 'vitest';
import { bearerChecker } from '../../../src/admin/auth.js';

describe('bearerChecker', () => {
  const check = bearerChecker('s3cret-token-0123456789');

  it.each([
    ['Bearer s3cret-token-0123456789', 'ok'],
    ['bearer s3cret-token-0123456789', 'ok'],
    ['Bearer   s3cret-token-0123456789  ', 'ok'],
    ['Bearer s3cret-token-012345678X', 'invalid'],
    ['Bearer s3cret', 'invalid'],
    ['Bearer s3cret-token-0123456789-and-more', 'invalid'],
    ['Bearer ', 'missing'],
    ['Basic s3cret-token-0123456789', 'missing'],
    ['s3cret-token-0123456789', 'missing'],
    ['Bearer two tokens', 'missing'],
    [undefined, 'missing'],
  ] as const)('%s -> %s', (header, verdict) => {
    expect(check(header)).toBe(verdict);
  });
});
