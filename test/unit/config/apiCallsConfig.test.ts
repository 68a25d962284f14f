import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config/load.js';

const TOKEN = 'a'.repeat(16);
const problems = (raw: unknown): string[] => {
  try {
    parseConfig(raw);
    return [];
  } catch (err) {
    return err instanceof ConfigError ? err.problems : [String(err)];
  }
};

describe('api_calls and callbacks configuration', () => {
  it('has defaults that keep the agent ring under the 32 s a carrier waits for an ACK, and no callback secret', () => {
    const config = parseConfig({ admin: { token: TOKEN } });
    expect(config.api_calls).toEqual({ record_ttl_s: 86_400, idempotency_ttl_s: 86_400, max_ring_timeout_s: 120, agent_ring_timeout_s: 15 });
    expect(config.callbacks.secret).toBeUndefined();
    expect(config.callbacks).toMatchObject({ timeout_ms: 5000, max_attempts: 6, queue_max: 10_000, concurrency: 8 });
  });

  it.each([
    [{ api_calls: { agent_ring_timeout_s: 31 } }, 'api_calls.agent_ring_timeout_s'],
    [{ callbacks: { secret: 'short' } }, 'callbacks.secret: must be at least 32 characters'],
    [{ callbacks: { retry_min_ms: 5000, retry_max_ms: 1000 } }, 'callbacks.retry_max_ms: must be >= retry_min_ms'],
    [{ callbacks: { queue_max: 0 } }, 'callbacks.queue_max'],
  ])('refuses %j naming %s', (section, named) => {
    expect(problems({ admin: { token: TOKEN }, ...section }).join('\n')).toContain(named);
  });

  it('takes the callback secret from CALLBACK_SECRET', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sip-edge-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `admin:\n  token: ${TOKEN}\n`);
    const config = loadConfig({ SIP_EDGE_CONFIG: file, CALLBACK_SECRET: 's'.repeat(40) });
    expect(config.callbacks.secret).toBe('s'.repeat(40));
  });
});
