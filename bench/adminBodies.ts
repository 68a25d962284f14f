/**
 * node --import tsx bench/adminBodies.ts
 *
 * How long hostile and large bodies hold the admin API's event loop (which is also the SIP
 * process's event loop): the real admin server with the default limits over a local Redis, one
 * request per case, the longest gap between 5 ms timer ticks while it runs. A few seconds; the
 * figures go into the README, not into a test.
 */
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../src/admin/server.js';
import { configSchema } from '../src/config/schema.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { Catalog } from '../src/stores/catalog.js';
import { redisKeys } from '../src/stores/keys.js';
import { onCleanup, runMain } from './lib/cleanup.js';
import { startLocalRedis } from './lib/stack.js';

const TOKEN = 'bench-admin-token-0123456789';

function importRows(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    phone_number: `+1555${String(i).padStart(7, '0')}`,
    workspace_id: 'ws_b',
    telephony: 'imported',
    provider: 'twilio',
    friendly_name: `Line ${i} ${'-'.repeat(150)}`,
  }));
}

function csvRows(count: number): string {
  const lines = Array.from({ length: count }, (_, i) => `+1556${String(i).padStart(7, '0')},ws_b,imported,twilio,"Line ${i}, ${'-'.repeat(150)}"`);
  return ['phone_number,workspace_id,telephony,provider,friendly_name', ...lines].join('\n');
}

const CASES: readonly { name: string; method: string; path: string; contentType: string; body: () => string }[] = [
  { name: 'merge patch nested 12,000 deep', method: 'PATCH', path: '/v1/agents/agt_b', contentType: 'application/merge-patch+json', body: () => `${'{"a":'.repeat(12_000)}1${'}'.repeat(12_000)}` },
  { name: 'import: 10 MB of nested arrays', method: 'POST', path: '/v1/phone-numbers/import', contentType: 'application/json', body: () => `${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}` },
  { name: 'import: 7 MB of nested objects', method: 'POST', path: '/v1/phone-numbers/import', contentType: 'application/json', body: () => `{"numbers":[${'{"inbound_routing":'.repeat(400_000)}1${'}'.repeat(400_000)}]}` },
  { name: 'import: 10,000 valid rows (JSON)', method: 'POST', path: '/v1/phone-numbers/import', contentType: 'application/json', body: () => JSON.stringify(importRows(10_000)) },
  { name: 'import: 10,000 valid rows (CSV)', method: 'POST', path: '/v1/phone-numbers/import', contentType: 'text/csv', body: () => csvRows(10_000) },
];

async function main(): Promise<void> {
  const redisServer = await startLocalRedis();
  const config = configSchema.parse({ admin: { token: TOKEN }, redis: { url: redisServer.url } });
  const redis = new Redis(redisServer.url);
  onCleanup('redis client', async () => redis.disconnect());
  const catalog = new Catalog(redis, redisKeys('bench-admin:'));
  const app = createAdminServer({
    config: config.admin,
    catalog,
    metrics: createMetrics(),
    logger: createLogger('silent'),
    health: { live: () => true, ready: async () => ({ ready: true, checks: {} }) },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  onCleanup('admin server', () => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const headers = (contentType: string) => ({ authorization: `Bearer ${TOKEN}`, 'content-type': contentType });
  await fetch(`${base}/v1/agents`, { method: 'POST', headers: headers('application/json'), body: JSON.stringify({ id: 'agt_b', workspace_id: 'ws_b', name: 'b', sip_uri: 'sip:b@10.0.0.1' }) });

  console.log(`limits: body ${config.admin.body_limit_bytes} B, import ${config.admin.import_body_limit_bytes} B, JSON depth ${config.admin.json_max_depth}`);
  console.log('case | bytes | status | code | request ms | longest event-loop stall ms');
  for (const c of CASES) {
    const body = c.body();
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last - 5);
      last = now;
    }, 5);
    const started = performance.now();
    const res = await fetch(`${base}${c.path}`, { method: c.method, headers: headers(c.contentType), body });
    const answer = (await res.json()) as { error?: { code?: string } };
    const took = performance.now() - started;
    clearInterval(ticker);
    console.log(`${c.name} | ${body.length} | ${res.status} | ${answer.error?.code ?? '-'} | ${took.toFixed(0)} | ${Math.max(0, longest).toFixed(0)}`);
  }
}

runMain(main);
