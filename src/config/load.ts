import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';

/** Environment variables that override a config key (dotted path). */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  REDIS_URL: 'redis.url',
  REDIS_KEY_PREFIX: 'redis.key_prefix',
  REDIS_MODE: 'redis.mode',
  REDIS_NODES: 'redis.nodes',
  DRACHTIO_MODE: 'drachtio.mode',
  DRACHTIO_HOST: 'drachtio.host',
  DRACHTIO_PORT: 'drachtio.port',
  DRACHTIO_SECRET: 'drachtio.secret',
  DRACHTIO_LISTEN_PORT: 'drachtio.listen_port',
  ADMIN_HOST: 'admin.host',
  ADMIN_PORT: 'admin.port',
  ADMIN_TOKEN: 'admin.token',
  LOG_LEVEL: 'log_level',
  INSTANCE_ID: 'instance_id',
  VOICEMAIL_URI: 'sip.voicemail_uri',
  SIP_NONCE_SECRET: 'sip.nonce_secret',
  BILLING_STREAM: 'billing.stream',
  BILLING_SPOOL_DIR: 'billing.spool_dir',
  MEDIA_ANCHOR: 'media.anchor',
  RTPENGINE: 'media.rtpengine',
  CALLBACK_SECRET: 'callbacks.secret',
  TEST_CALL_SECRET: 'test_calls.secret',
  TEST_CALL_WS_URL: 'test_calls.ws_url',
  TEST_CALL_PORTS: 'test_calls.entry_ports',
};

export const DEFAULT_CONFIG_PATH = 'config/sip-edge.yaml';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

function setPath(target: Raw, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Raw;
  }
  node[parts[parts.length - 1]!] = value;
}

function readYaml(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`config file ${path}: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`config file ${path}: not valid YAML: ${(err as Error).message}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`config file ${path}: top level must be a mapping`]);
  return doc as Raw;
}

/** Validates a raw config object; every problem names its key. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const config = result.data;
  return { ...config, instance_id: config.instance_id ?? `${hostname()}-${process.pid}` };
}

/**
 * The one place that reads the environment: YAML file (SIP_EDGE_CONFIG or config/sip-edge.yaml)
 * with the variables of ENV_OVERRIDES laid over it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const path = env.SIP_EDGE_CONFIG ?? DEFAULT_CONFIG_PATH;
  const raw = readYaml(path);
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, key, value);
  }
  return parseConfig(raw);
}
