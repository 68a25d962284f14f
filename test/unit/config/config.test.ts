import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config/load.js';

const TOKEN = 'admin-token-0123456789';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('accepts a config with only the admin token', () => {
    const config = parseConfig({ admin: { token: TOKEN } });
    expect(config.admin.token).toBe(TOKEN);
    expect(config.instance_id).toBeTruthy();
    expect(config.admin).toMatchObject({ body_limit_bytes: 1024 * 1024, import_body_limit_bytes: 8 * 1024 * 1024, json_max_depth: 32 });
  });

  it.each<[string, string, unknown]>([
    ['admin.token missing from the admin section', 'admin.token', { admin: {} }],
    ['no admin section at all', 'admin.token', {}],
    ['admin.token too short', 'admin.token', { admin: { token: 'short' } }],
    ['admin.port out of range', 'admin.port', { admin: { token: TOKEN, port: 70000 } }],
    ['admin.port not a number', 'admin.port', { admin: { token: TOKEN, port: 'http' } }],
    ['drachtio.port zero', 'drachtio.port', { admin: { token: TOKEN }, drachtio: { port: 0 } }],
    ['redis.url not redis://', 'redis.url', { admin: { token: TOKEN }, redis: { url: 'http://localhost:6379' } }],
    ['cluster without nodes', 'redis.nodes', { admin: { token: TOKEN }, redis: { mode: 'cluster' } }],
    ['a hash tag in the prefix (one slot for everything)', 'redis.key_prefix', { admin: { token: TOKEN }, redis: { mode: 'cluster', nodes: ['r1:7000'], key_prefix: '{sipedge}:' } }],
    ['an empty tag that fools a tag check', 'redis.key_prefix', { admin: { token: TOKEN }, redis: { mode: 'cluster', nodes: ['r1:7000'], key_prefix: '{}sipedge{x}:' } }],
    ['braces in the billing stream name', 'billing.stream', { admin: { token: TOKEN }, billing: { stream: 'billing:{events}' } }],
    ['default_country not ISO', 'sip.default_country', { admin: { token: TOKEN }, sip: { default_country: 'UK' } }],
    ['admin.json_max_depth too shallow for the API itself', 'admin.json_max_depth', { admin: { token: TOKEN, json_max_depth: 4 } }],
    ['admin.body_limit_bytes below 1 KiB', 'admin.body_limit_bytes', { admin: { token: TOKEN, body_limit_bytes: 100 } }],
    ['admin.import_body_limit_bytes not a number', 'admin.import_body_limit_bytes', { admin: { token: TOKEN, import_body_limit_bytes: 'lots' } }],
  ])('%s -> names %s', (_name, key, raw) => {
    const list = problems(() => parseConfig(raw));
    expect(list.some((p) => p.startsWith(`${key}:`))).toBe(true);
  });

  it('accepts cluster mode with the default prefix (each key carries its own hash tag)', () => {
    const config = parseConfig({ admin: { token: TOKEN }, redis: { mode: 'cluster', nodes: ['r1:7000'] } });
    expect(config.redis.mode).toBe('cluster');
    expect(config.redis.key_prefix).toBe('sipedge:');
  });

  it('reports every problem at once', () => {
    const list = problems(() => parseConfig({ admin: { token: 'short', port: -1 }, drachtio: { port: 99999 } }));
    expect(list.map((p) => p.split(':')[0])).toEqual(expect.arrayContaining(['admin.token', 'admin.port', 'drachtio.port']));
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-edge-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const base = file('base.yaml', `admin:\n  token: ${TOKEN}\n  port: 8081\nredis:\n  url: redis://yaml-host:6379/0\nlog_level: warn\n`);

  it('reads the YAML file named by SIP_EDGE_CONFIG', () => {
    const config = loadConfig({ SIP_EDGE_CONFIG: base });
    expect(config.admin.port).toBe(8081);
    expect(config.redis.url).toBe('redis://yaml-host:6379/0');
    expect(config.log_level).toBe('warn');
  });

  it('lays environment overrides over the file', () => {
    const config = loadConfig({
      SIP_EDGE_CONFIG: base,
      REDIS_URL: 'redis://env-host:6380/2',
      REDIS_KEY_PREFIX: 'edge2:',
      ADMIN_PORT: '9090',
      ADMIN_HOST: '0.0.0.0',
      DRACHTIO_HOST: 'drachtio.internal',
      DRACHTIO_PORT: '9023',
      DRACHTIO_MODE: 'outbound',
      LOG_LEVEL: 'debug',
      INSTANCE_ID: 'edge-7',
      VOICEMAIL_URI: 'sip:voicemail@vm.internal',
    });
    expect(config.redis.url).toBe('redis://env-host:6380/2');
    expect(config.redis.key_prefix).toBe('edge2:');
    expect(config.admin.port).toBe(9090);
    expect(config.admin.host).toBe('0.0.0.0');
    expect(config.admin.token).toBe(TOKEN);
    expect(config.drachtio).toMatchObject({ host: 'drachtio.internal', port: 9023, mode: 'outbound' });
    expect(config.log_level).toBe('debug');
    expect(config.instance_id).toBe('edge-7');
    expect(config.sip.voicemail_uri).toBe('sip:voicemail@vm.internal');
  });

  it('ADMIN_TOKEN fills a file without an admin section', () => {
    const path = file('no-admin.yaml', 'log_level: info\n');
    expect(loadConfig({ SIP_EDGE_CONFIG: path, ADMIN_TOKEN: TOKEN }).admin.token).toBe(TOKEN);
  });

  it('an empty variable does not override the file', () => {
    expect(loadConfig({ SIP_EDGE_CONFIG: base, REDIS_URL: '' }).redis.url).toBe('redis://yaml-host:6379/0');
  });

  it('a bad override names the key it sets', () => {
    const list = problems(() => loadConfig({ SIP_EDGE_CONFIG: base, ADMIN_PORT: 'eighty' }));
    expect(list.some((p) => p.startsWith('admin.port:'))).toBe(true);
  });

  it('a YAML syntax error names the file', () => {
    const path = file('broken.yaml', 'admin:\n  token: [unclosed\n  port: 1\n');
    const list = problems(() => loadConfig({ SIP_EDGE_CONFIG: path }));
    expect(list.join('\n')).toContain(path);
  });

  it('a missing file names the file', () => {
    const path = join(dir, 'does-not-exist.yaml');
    expect(problems(() => loadConfig({ SIP_EDGE_CONFIG: path })).join('\n')).toContain(path);
  });

  it('a YAML list at the top level is refused, naming the file', () => {
    const path = file('list.yaml', '- a\n- b\n');
    expect(problems(() => loadConfig({ SIP_EDGE_CONFIG: path })).join('\n')).toContain(path);
  });
});

describe('media anchor configuration', () => {
  const base = { admin: { token: 'x'.repeat(16) } };

  it('is off by default', () => {
    expect(parseConfig(base).media).toMatchObject({ anchor: 'off', rtpengine: [], timeout_s: 30, hold_timeout_s: 1800 });
  });

  it('refuses anchor "always" without an rtpengine, naming the key', () => {
    expect(() => parseConfig({ ...base, media: { anchor: 'always' } })).toThrow(/media\.rtpengine: anchor "always" needs at least one/);
  });

  it('takes RTPENGINE as a comma-separated list of host:port', () => {
    const dir = mkdtempSync(join(tmpdir(), 'media-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'admin:\n  token: "0123456789abcdef"\n');
    const config = loadConfig({ SIP_EDGE_CONFIG: file, MEDIA_ANCHOR: 'always', RTPENGINE: '10.0.0.5:22222, rtp-b:2223' });
    expect(config.media).toMatchObject({ anchor: 'always', rtpengine: ['10.0.0.5:22222', 'rtp-b:2223'] });
    expect(() => loadConfig({ SIP_EDGE_CONFIG: file, MEDIA_ANCHOR: 'always', RTPENGINE: 'no-port' })).toThrow(/media\.rtpengine/);
  });
});

describe('test_calls configuration (browser test calls)', () => {
  const base = { admin: { token: 'x'.repeat(16) } };
  const anchored = { ...base, media: { anchor: 'always', rtpengine: ['127.0.0.1:22222'] } };
  const SECRET = 's'.repeat(32);

  it('is off by default: no secret, no entry', () => {
    const t = parseConfig(base).test_calls;
    expect(t.secret).toBeUndefined();
    expect(t).toMatchObject({ entry_ports: [], token_ttl_s: 300, max_call_duration_s: 1800 });
  });

  it('needs the entry ports, the browsers\' URL and the media anchor once a secret is set', () => {
    const list = problems(() => parseConfig({ ...base, test_calls: { secret: SECRET } }));
    expect(list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^test_calls\.entry_ports: /),
        expect.stringMatching(/^test_calls\.ws_url: /),
        expect.stringMatching(/^test_calls\.secret: browser test calls need the media anchor/),
      ]),
    );
    expect(parseConfig({ ...anchored, test_calls: { secret: SECRET, entry_ports: [8443], ws_url: 'wss://edge.example.com:8443' } }).test_calls.secret).toBe(SECRET);
  });

  it.each([
    [{ secret: 'short' }, 'test_calls.secret'],
    [{ token_ttl_s: 601 }, 'test_calls.token_ttl_s'],
    [{ token_ttl_s: 5 }, 'test_calls.token_ttl_s'],
    [{ ws_url: 'https://edge.example.com' }, 'test_calls.ws_url'],
    [{ entry_ports: [0] }, 'test_calls.entry_ports.0'],
  ])('refuses %o, naming %s', (section, key) => {
    expect(problems(() => parseConfig({ ...anchored, test_calls: section })).map((p) => p.split(':')[0])).toContain(key);
  });

  it('takes TEST_CALL_SECRET, TEST_CALL_WS_URL and TEST_CALL_PORTS from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'test-calls-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'admin:\n  token: "0123456789abcdef"\n');
    const config = loadConfig({ SIP_EDGE_CONFIG: file, MEDIA_ANCHOR: 'always', RTPENGINE: '127.0.0.1:22222', TEST_CALL_SECRET: SECRET, TEST_CALL_WS_URL: 'ws://127.0.0.1:5062', TEST_CALL_PORTS: '5062, 8443' });
    expect(config.test_calls).toMatchObject({ secret: SECRET, ws_url: 'ws://127.0.0.1:5062', entry_ports: [5062, 8443] });
    rmSync(dir, { recursive: true, force: true });
  });
});
