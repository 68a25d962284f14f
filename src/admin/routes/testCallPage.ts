import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

export const TEST_CALL_PAGE_PATHS = ['/test-call', '/test-call/app.js'] as const;

/** dist/public of the package this module belongs to (from src/ under tsx, from dist/ when built). */
export function defaultPageDir(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return join(from, 'public');
    dir = up;
  }
  return join(dir, 'dist', 'public');
}

/**
 * The page forbids everything it does not need: its own script, inline styles, fetches to the
 * admin API, WebSockets to the browser entry (any ws:/wss: host: the entry is not the API's
 * host in production), no frames, no forms posting elsewhere, no referrer.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; media-src 'self' blob:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/**
 * GET /test-call: the browser test-call page (static; it asks for the bearer token itself, so it
 * is served without one) and its bundled script. Built by `npm run build` into dist/public; an
 * edge run from a checkout that was never built answers 503 page_not_built.
 */
export function registerTestCallPage(app: FastifyInstance, options: { dir?: string } = {}): void {
  const dir = options.dir ?? defaultPageDir();
  const cache = new Map<string, string>();
  const read = (name: string): string => {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const path = join(dir, name);
    if (!existsSync(path)) throw new ApiError(503, 'page_not_built', `the test-call page is not built (${path}): run npm run build`);
    const text = readFileSync(path, 'utf8');
    cache.set(name, text);
    return text;
  };
  const doc = (summary: string, type: string) => ({
    config: { openapi: { summary, tags: ['test calls'], responses: { 200: { description: summary, content: { [type]: { type: 'string' } } } }, errors: [503] } },
  });
  app.get('/test-call', doc('The browser test-call page', 'text/html'), async (_req, reply) =>
    reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(read('test-call.html')),
  );
  app.get('/test-call/app.js', doc("The test-call page's script (JsSIP bundled)", 'text/javascript'), async (_req, reply) =>
    reply.headers(PAGE_HEADERS).type('text/javascript; charset=utf-8').send(read('test-call.js')),
  );
}
