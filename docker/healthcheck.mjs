// Container liveness probe (Dockerfile HEALTHCHECK): GET /healthz on the admin API, exit 0 when it
// answers 200, 1 otherwise. Node only, because the slim image has no curl or wget.
//
// The admin address is found the way src/config/load.ts finds it: a non-empty ADMIN_HOST /
// ADMIN_PORT wins, else admin.host / admin.port of the YAML file at SIP_EDGE_CONFIG (default
// config/sip-edge.yaml), else the schema defaults 127.0.0.1 and 8080. A wildcard bind address
// (0.0.0.0, ::) is probed on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 8080;
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '*']);

const nonEmpty = (v) => (v === undefined || v === null || String(v).trim() === '' ? undefined : String(v).trim());

/**
 * The /healthz URL for an environment. `readConfig(path)` returns the parsed YAML document (or
 * throws); it is only called when the environment leaves the host or the port open.
 */
export function healthUrl(env, readConfig) {
  let host = nonEmpty(env.ADMIN_HOST);
  let port = nonEmpty(env.ADMIN_PORT);
  if (host === undefined || port === undefined) {
    const path = nonEmpty(env.SIP_EDGE_CONFIG) ?? 'config/sip-edge.yaml';
    const doc = readConfig(path);
    const admin = doc && typeof doc === 'object' && doc.admin && typeof doc.admin === 'object' ? doc.admin : {};
    host ??= nonEmpty(admin.host);
    port ??= nonEmpty(admin.port);
  }
  host ??= DEFAULT_HOST;
  const portNumber = port === undefined ? DEFAULT_PORT : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new Error(`admin port ${port} cannot be probed (0 means "any free port"; set a fixed ADMIN_PORT)`);
  }
  if (WILDCARDS.has(host)) host = DEFAULT_HOST;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `http://${host}:${portNumber}/healthz`;
}

async function readYamlFile(path) {
  const { parse } = await import('yaml');
  return parse(readFileSync(path, 'utf8'));
}

async function main() {
  let doc;
  const env = process.env;
  if (nonEmpty(env.ADMIN_HOST) === undefined || nonEmpty(env.ADMIN_PORT) === undefined) {
    doc = await readYamlFile(nonEmpty(env.SIP_EDGE_CONFIG) ?? 'config/sip-edge.yaml');
  }
  const url = healthUrl(env, () => doc);
  const res = await fetch(url, { signal: AbortSignal.timeout(Number(env.HEALTHCHECK_TIMEOUT_MS) || 3000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`healthcheck: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
