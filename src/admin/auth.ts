import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Bearer-token check in constant time. Both sides are hashed first, so the comparison takes the
 * same time whatever the length of the presented token (timingSafeEqual needs equal lengths).
 */
export function bearerChecker(token: string): (authorization: string | undefined) => 'ok' | 'missing' | 'invalid' {
  const expected = digest(token);
  return (authorization) => {
    if (authorization === undefined) return 'missing';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) return 'missing';
    return timingSafeEqual(digest(match[1]!), expected) ? 'ok' : 'invalid';
  };
}
