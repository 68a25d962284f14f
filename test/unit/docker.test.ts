import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram, Summary } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { adminRequestCounter } from '../../src/admin/metrics.js';
import { ENV_OVERRIDES, loadConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/observability/metrics.js';

/**
 * docker/ cannot be built or run on a machine without a Docker engine, so this checks by reading:
 * the compose file's structure, that the app's environment there is a configuration the app
 * accepts, the drachtio config, the Dockerfile, the healthcheck script (run for real against a
 * local HTTP server), and that the Grafana dashboard queries only metrics the app exposes.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCKER = join(ROOT, 'docker');
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => {
  expect(v, 'expected a mapping').toBeTypeOf('object');
  expect(v).not.toBeNull();
  return v as Obj;
};

// ---------------------------------------------------------------- compose

const compose = obj(parseYaml(read('docker/compose.yaml')));
const services = obj(compose.services);
const app = obj(services.app);
const drachtio = obj(services.drachtio);
const redis = obj(services.redis);

function envOf(service: Obj): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e: string) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(obj(env ?? {})).map(([k, v]) => [k, String(v)]));
}

/** Compose interpolation as far as this file uses it: ${VAR}, ${VAR:-default}, ${VAR:?error}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:-|:\?|:\+)([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const v = vars[name];
    if (op === ':+') return v !== undefined && v !== '' ? (arg ?? '') : '';
    if (v !== undefined && v !== '') return v;
    if (op === ':-') return arg ?? '';
    if (op === ':?') throw new Error(`required variable ${name} is not set: ${arg}`);
    return '';
  });
}

interface PortMapping {
  hostIp: string | undefined;
  published: string | undefined;
  target: number;
  protocol: string;
}

/** Both compose port syntaxes: "[ip:]published:target[/proto]" and the long form. */
function portsOf(service: Obj): PortMapping[] {
  const list = (service.ports ?? []) as unknown[];
  return list.flatMap((p): PortMapping[] => {
    if (typeof p === 'string' || typeof p === 'number') {
      const [spec, protocol = 'tcp'] = String(p).split('/');
      const parts = spec!.split(':');
      const targets = parts.pop()!;
      const published = parts.pop();
      const hostIp = parts.length > 0 ? parts.join(':') : undefined;
      // a range "A-B:A-B" maps each port to itself
      const [from, to = from] = targets.split('-').map(Number) as [number, number?];
      return Array.from({ length: to! - from + 1 }, (_, i) => ({ hostIp, published: published?.includes('-') ? String(Number(published.split('-')[0]) + i) : published, target: from + i, protocol }));
    }
    const o = obj(p);
    return [{
      hostIp: o.host_ip === undefined ? undefined : String(o.host_ip),
      published: o.published === undefined ? undefined : String(o.published),
      target: Number(o.target),
      protocol: String(o.protocol ?? 'tcp'),
    }];
  });
}

function volumesOf(service: Obj): { source: string; target: string; readOnly: boolean }[] {
  return ((service.volumes ?? []) as unknown[]).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      return { source: source!, target: target!, readOnly: mode === 'ro' };
    }
    const o = obj(v);
    return { source: String(o.source), target: String(o.target), readOnly: o.read_only === true };
  });
}

const isBindMount = (source: string): boolean => source.startsWith('.') || source.startsWith('/');

function seconds(duration: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!m || (!m[1] && !m[2])) throw new Error(`unsupported duration ${duration}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** The app service's environment as the container gets it, with the required secrets supplied. */
const SHELL = { ADMIN_TOKEN: 'compose-test-admin-token-0123', DRACHTIO_SECRET: 'compose-test-drachtio-secret' };
const appEnv = Object.fromEntries(Object.entries(envOf(app)).map(([k, v]) => [k, interpolate(v, SHELL)]));

describe('docker/compose.yaml', () => {
  it('has exactly drachtio, redis, rtpengine and app', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'drachtio', 'redis', 'rtpengine']);
  });

  it('anchors media through the rtpengine service: ng on the compose network, its RTP range published as configured', () => {
    const rtpengine = obj(services.rtpengine);
    const args = (rtpengine.command as string[]).map((a) => interpolate(a, {}));
    const arg = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    expect(appEnv.MEDIA_ANCHOR).toBe('always');
    expect(appEnv.RTPENGINE).toBe(`rtpengine:${arg('listen-ng')!.split(':')[1]}`);
    const min = Number(arg('port-min'));
    const max = Number(arg('port-max'));
    const published = portsOf(rtpengine);
    expect(published.every((p) => p.protocol === 'udp')).toBe(true);
    expect(published.map((p) => p.target)).toEqual(Array.from({ length: max - min + 1 }, (_, i) => min + i));
    expect(published.map((p) => p.target)).not.toContain(Number(arg('listen-ng')!.split(':')[1]));
    expect(interpolate(rtpengine.command instanceof Array ? (rtpengine.command as string[])[0]! : '', { RTPENGINE_ADVERTISE: '203.0.113.7' })).toBe('--interface=eth0!203.0.113.7');
    expect(arg('interface')).toBe('eth0');
    const config = loadConfig({ ...appEnv, SIP_EDGE_CONFIG: join(ROOT, 'config/sip-edge.yaml') });
    expect(config.media).toMatchObject({ anchor: 'always', rtpengine: ['rtpengine:22222'] });
    expect(Number(arg('timeout'))).toBeGreaterThan(config.media.timeout_s);
    expect(Number(arg('silent-timeout'))).toBeGreaterThan(config.media.hold_timeout_s);
  });

  it('starts the app after a healthy Redis and a started drachtio', () => {
    const deps = obj(app.depends_on);
    expect(obj(deps.redis).condition).toBe('service_healthy');
    expect(obj(deps.drachtio).condition).toBe('service_started');
    const hc = obj(redis.healthcheck);
    expect(JSON.stringify(hc.test)).toMatch(/redis-cli ping/);
  });

  it('persists Redis with an append-only file on a volume', () => {
    expect(JSON.stringify(redis.command)).toMatch(/"--appendonly","yes"/);
    const data = volumesOf(redis).find((v) => v.target === '/data');
    expect(data).toBeDefined();
    expect(obj(compose.volumes)).toHaveProperty(data!.source);
  });

  it('builds the app from the repository root with docker/Dockerfile', () => {
    const build = obj(app.build);
    const context = resolve(DOCKER, String(build.context));
    expect(context).toBe(ROOT);
    expect(existsSync(join(context, String(build.dockerfile)))).toBe(true);
    expect(build.dockerfile).toBe('docker/Dockerfile');
  });

  it('gives the app the connection settings for the other two services', () => {
    expect(appEnv.REDIS_URL).toMatch(/^redis:\/\/redis:6379(\/\d+)?$/);
    expect(appEnv.DRACHTIO_HOST).toBe('drachtio');
    expect(appEnv.DRACHTIO_PORT).toBe('9022');
    expect(appEnv.ADMIN_HOST).toBe('0.0.0.0');
    expect(appEnv.ADMIN_TOKEN).toBe(SHELL.ADMIN_TOKEN);
    expect(appEnv.INSTANCE_ID).toBe('edge-1');
  });

  it('requires ADMIN_TOKEN and DRACHTIO_SECRET from the shell instead of shipping defaults', () => {
    expect(() => interpolate(envOf(app).ADMIN_TOKEN!, {})).toThrow(/ADMIN_TOKEN/);
    expect(() => interpolate(envOf(app).DRACHTIO_SECRET!, {})).toThrow(/DRACHTIO_SECRET/);
    expect(() => interpolate(envOf(drachtio).DRACHTIO_SECRET!, {})).toThrow(/DRACHTIO_SECRET/);
    // one secret for both ends of the drachtio control connection
    expect(envOf(drachtio).DRACHTIO_SECRET).toBe(envOf(app).DRACHTIO_SECRET);
  });

  it('sets only environment variables the app reads', () => {
    const known = new Set([...Object.keys(ENV_OVERRIDES), 'SIP_EDGE_CONFIG']);
    expect(Object.keys(appEnv).filter((k) => !known.has(k))).toEqual([]);
  });

  it('gives the app an environment that the real config loader accepts', () => {
    const env = { ...appEnv, SIP_EDGE_CONFIG: join(ROOT, 'config/sip-edge.yaml') };
    const config = loadConfig(env);
    expect(config.redis.url).toBe(appEnv.REDIS_URL);
    expect(config.drachtio).toMatchObject({ mode: 'inbound', host: 'drachtio', port: 9022, secret: SHELL.DRACHTIO_SECRET });
    expect(config.admin).toMatchObject({ host: '0.0.0.0', token: SHELL.ADMIN_TOKEN });
    expect(config.instance_id).toBe('edge-1');
    // the image's config path is the repository's config/ directory copied to /app/config
    expect(appEnv.SIP_EDGE_CONFIG).toBe('/app/config/sip-edge.yaml');

    // the admin port the app listens on is the one compose maps
    const [admin, ...rest] = portsOf(app);
    expect(rest).toEqual([]);
    expect(admin!.target).toBe(config.admin.port);

    // the spool volume sits where the app writes its billing spool (cwd /app)
    const spoolDir = posix.resolve('/app', config.billing.spool_dir);
    const spool = volumesOf(app).find((v) => v.target === spoolDir);
    expect(spool, `a volume at ${spoolDir}`).toBeDefined();
    expect(isBindMount(spool!.source)).toBe(false);
    expect(obj(compose.volumes)).toHaveProperty(spool!.source);

    // docker stop must wait for the drain and the billing flush, or it kills calls mid-drain
    const needed = config.shutdown.drain_timeout_s + config.billing.stop_flush_timeout_ms / 1000;
    expect(seconds(String(app.stop_grace_period))).toBeGreaterThan(needed);
  });

  it('accepts docker/sip-edge.example.yaml (the file to mount for production) with that environment', () => {
    const config = loadConfig({ ...appEnv, SIP_EDGE_CONFIG: join(DOCKER, 'sip-edge.example.yaml') });
    expect(config.sip.agent_cidrs.length).toBeGreaterThan(0);
    expect(config.sip.nonce_secret).toBeDefined();
    expect(config.admin.port).toBe(portsOf(app)[0]!.target);
    const needed = config.shutdown.drain_timeout_s + config.billing.stop_flush_timeout_ms / 1000;
    expect(seconds(String(app.stop_grace_period))).toBeGreaterThan(needed);
  });

  it('publishes the admin API on the host loopback only', () => {
    for (const p of portsOf(app)) expect(p.hostIp).toBe('127.0.0.1');
  });

  it('publishes SIP (5060 udp/tcp, 5061 tls) and never the drachtio control port', () => {
    const sip = portsOf(drachtio).map((p) => `${p.target}/${p.protocol}`);
    expect(sip).toEqual(expect.arrayContaining(['5060/udp', '5060/tcp', '5061/tcp']));
    for (const service of Object.values(services)) {
      for (const p of portsOf(obj(service))) expect(p.target).not.toBe(9022);
    }
    expect(redis.ports ?? []).toEqual([]);
  });

  it('mounts the drachtio config and the TLS directory, read-only, from files that exist', () => {
    const mounts = volumesOf(drachtio);
    const conf = mounts.find((m) => m.target === '/etc/drachtio.conf.xml');
    expect(conf).toMatchObject({ source: './drachtio/drachtio.conf.xml', readOnly: true });
    expect(mounts.find((m) => m.target === '/etc/drachtio/tls')).toMatchObject({ readOnly: true });
    for (const service of Object.values(services)) {
      for (const m of volumesOf(obj(service)).filter((v) => isBindMount(v.source))) {
        expect(existsSync(resolve(DOCKER, m.source)), `bind mount source ${m.source}`).toBe(true);
      }
    }
  });

  it('pins the drachtio-server image to a release', () => {
    expect(String(drachtio.image)).toMatch(/^drachtio\/drachtio-server:\d+\.\d+\.\d+$/);
  });
});

// ---------------------------------------------------------------- drachtio config

describe('docker/drachtio/drachtio.conf.xml', () => {
  const xml = read('docker/drachtio/drachtio.conf.xml');
  const active = xml.replace(/<!--[\s\S]*?-->/g, '');

  it('is well-formed as far as comments go (no "--" inside a comment)', () => {
    for (const m of xml.matchAll(/<!--([\s\S]*?)-->/g)) expect(m[1]).not.toContain('--');
    expect(active.trim().startsWith('<drachtio>')).toBe(true);
    expect(active.trim().endsWith('</drachtio>')).toBe(true);
  });

  it('has the admin element on the port the app connects to', () => {
    const admin = /<admin\s+port="(\d+)"\s+secret="[^"]+">([^<]+)<\/admin>/.exec(active);
    expect(admin).not.toBeNull();
    expect(admin![1]).toBe(appEnv.DRACHTIO_PORT);
    // reachable from the app container (the port itself is not published)
    expect(admin![2]).toBe('0.0.0.0');
  });

  it('has an active UDP/TCP contact on 5060 and a TLS example with the trailing comma', () => {
    const contacts = /<contacts>([\s\S]*?)<\/contacts>/.exec(active);
    expect(contacts).not.toBeNull();
    expect(contacts![1]).toMatch(/<contact[^>]*>sip:\*:5060;transport=udp,tcp<\/contact>/);
    // every TLS contact, commented out or not, keeps the comma sofia needs
    const tls = [...xml.matchAll(/<contact[^>]*>([^<]*transport=tls[^<]*)<\/contact>/g)].map((m) => m[1]);
    expect(tls.length).toBeGreaterThan(0);
    for (const c of tls) expect(c).toMatch(/transport=tls,$/);
    // the certificate example names all three files
    for (const tag of ['key-file', 'cert-file', 'chain-file']) expect(xml).toContain(`<${tag}>/etc/drachtio/tls/`);
  });

  it('documents the browser entry: a sips: wss contact on the port compose publishes and the app is told (TEST_CALL_PORTS)', () => {
    const wss = [...xml.matchAll(/<contact[^>]*>([^<]*transport=wss[^<]*)<\/contact>/g)].map((m) => m[1]!);
    expect(wss.length).toBeGreaterThan(0);
    // drachtio hands the TLS files only to contacts naming sips/tls: sip:...;transport=wss does not bind
    for (const c of wss) expect(c).toMatch(/^sips:/);
    const port = Number(/:(\d+);transport=wss/.exec(wss[0]!)![1]);
    expect(appEnv.TEST_CALL_PORTS).toBe(String(port));
    expect(portsOf(drachtio).some((p) => p.target === port && p.protocol === 'tcp')).toBe(true);
    // with a secret and the browsers' URL the app's config takes it; without, test calls stay off
    const on = loadConfig({ ...appEnv, TEST_CALL_SECRET: 'a'.repeat(32), TEST_CALL_WS_URL: `wss://edge.example.com:${port}`, SIP_EDGE_CONFIG: join(ROOT, 'config/sip-edge.yaml') });
    expect(on.test_calls).toMatchObject({ entry_ports: [port], ws_url: `wss://edge.example.com:${port}` });
    expect(loadConfig({ ...appEnv, SIP_EDGE_CONFIG: join(ROOT, 'config/sip-edge.yaml') }).test_calls.secret).toBeUndefined();
  });

  it('logs to the console at notice', () => {
    expect(active).toMatch(/<console\s*\/>/);
    expect(active).toMatch(/<loglevel>notice<\/loglevel>/);
  });

  it('comes with a TLS README that explains key, cert and chain files', () => {
    const readme = read('docker/drachtio/tls/README.md');
    for (const word of ['key-file', 'cert-file', 'chain-file', 'transport=tls,']) expect(readme).toContain(word);
  });
});

// ---------------------------------------------------------------- Dockerfile

describe('docker/Dockerfile', () => {
  const text = read('docker/Dockerfile').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const instr = (name: string): string[] => lines.filter((l) => l.toUpperCase().startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

  it('builds in one stage and runs in another, both on node:20-bookworm-slim', () => {
    const froms = instr('FROM');
    expect(froms).toHaveLength(2);
    for (const f of froms) expect(f).toMatch(/^node:20-bookworm-slim\b/);
    const runs = instr('RUN').join('\n');
    expect(runs).toMatch(/npm ci/);
    expect(runs).toMatch(/npm run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user', () => {
    const users = instr('USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1]!.split(':')[0]!;
    expect(['root', '0']).not.toContain(last);
  });

  it('has a HEALTHCHECK that runs the healthcheck script with node', () => {
    const [hc] = instr('HEALTHCHECK');
    expect(hc).toBeDefined();
    expect(hc).toMatch(/CMD \["node", "\/app\/healthcheck\.mjs"\]/);
    expect(instr('COPY').some((c) => /^docker\/healthcheck\.mjs \.\/healthcheck\.mjs$/.test(c))).toBe(true);
  });

  it('starts dist/main.js with the config the image carries', () => {
    expect(instr('CMD')).toEqual(['["node", "--max-semi-space-size=64", "dist/main.js"]']);
    expect(instr('ENV').join(' ')).toMatch(/SIP_EDGE_CONFIG=\/app\/config\/sip-edge\.yaml/);
    expect(instr('WORKDIR').pop()).toBe('/app');
    expect(instr('EXPOSE').join(' ')).toMatch(/\b8080\/tcp\b/);
  });

  it('copies from the build context only paths that exist and that the ignore file lets through', () => {
    const ignore = read('docker/Dockerfile.dockerignore');
    expect(ignore).toMatch(/^\*\*\/node_modules$/m);
    expect(ignore).toMatch(/^dist$/m);
    const sources = instr('COPY')
      .filter((c) => !c.startsWith('--from'))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), `COPY source ${src}`).toBe(true);
      if (src.startsWith('docker/') || src.startsWith('scripts/')) expect(ignore).toContain(`!${src}`);
    }
  });
});

// ---------------------------------------------------------------- healthcheck script

function runHealthcheck(env: Record<string, string>, cwd = ROOT): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !['ADMIN_HOST', 'ADMIN_PORT', 'SIP_EDGE_CONFIG'].includes(k)),
    ) as Record<string, string>;
    const child = spawn(process.execPath, [join(DOCKER, 'healthcheck.mjs')], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

describe('docker/healthcheck.mjs', () => {
  let server: Server;
  let port: number;
  let status = 200;
  const seen: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'sip-edge-hc-'));

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(req.url === '/healthz' ? status : 404, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('exits 0 when /healthz answers 200, probing a wildcard bind address on 127.0.0.1', async () => {
    status = 200;
    const r = await runHealthcheck({ ADMIN_HOST: '0.0.0.0', ADMIN_PORT: String(port) });
    expect(r).toEqual({ code: 0, stderr: '' });
    expect(seen[seen.length - 1]).toBe('/healthz');
  });

  it('exits 1 when /healthz answers 503', async () => {
    status = 503;
    const r = await runHealthcheck({ ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/503/);
    status = 200;
  });

  it('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await runHealthcheck({ ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(freePort) });
    expect(r.code).toBe(1);
  });

  it('takes admin.host/admin.port from SIP_EDGE_CONFIG when the environment does not set them', async () => {
    const file = join(tmp, 'edge.yaml');
    writeFileSync(file, `admin:\n  host: "::"\n  port: ${port}\n`);
    // "::" is probed on 127.0.0.1, like 0.0.0.0
    expect(await runHealthcheck({ SIP_EDGE_CONFIG: file })).toEqual({ code: 0, stderr: '' });
    // the environment wins over the file, as in the app's config loader
    const r = await runHealthcheck({ SIP_EDGE_CONFIG: file, ADMIN_PORT: '1' });
    expect(r.code).toBe(1);
  });

  it('refuses admin port 0, which it cannot know', async () => {
    const r = await runHealthcheck({ ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ADMIN_PORT/);
  });
});

// ---------------------------------------------------------------- Grafana dashboard

/** Every metric the app exposes, with its label names: the real registry, as /metrics serves it. */
function exposedMetrics(): Map<string, readonly string[]> {
  const metrics = createMetrics();
  adminRequestCounter(metrics.registry);
  const names = new Map<string, readonly string[]>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const m = metric as unknown as { name: string; labelNames?: readonly string[] };
    const labels = m.labelNames ?? [];
    names.set(m.name, labels);
    if (metric instanceof Histogram) {
      names.set(`${m.name}_bucket`, [...labels, 'le']);
      names.set(`${m.name}_sum`, labels);
      names.set(`${m.name}_count`, labels);
    } else if (metric instanceof Summary) {
      names.set(`${m.name}_sum`, labels);
      names.set(`${m.name}_count`, labels);
    }
  }
  return names;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** A metric name as a string literal somewhere in src/ (for metrics on registries this test does not build). */
function definedInSource(name: string, sources: string): boolean {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return [name, base].some((n) => sources.includes(`'${n}'`) || sources.includes(`"${n}"`));
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
/** Labels every scraped series carries besides the app's own. */
const TARGET_LABELS = new Set(['instance', 'job']);

interface QueryRefs {
  metrics: string[];
  labels: string[];
}

/** Metric names and label names a PromQL expression uses. */
function promqlRefs(expr: string): QueryRefs {
  const labels: string[] = [];
  let rest = expr.replace(/\$__\w+|\$\{?\w+\}?/g, '0'); // Grafana variables
  rest = rest.replace(/\{([^}]*)\}/g, (_m, inner: string) => {
    for (const m of inner.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)) labels.push(m[1]!);
    return ' ';
  });
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _k, inner: string) => {
    for (const l of inner.split(',').map((s) => s.trim()).filter(Boolean)) labels.push(l);
    return ' ';
  });
  rest = rest.replace(/"(?:[^"\\]|\\.)*"/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  const metrics = [...rest.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((id) => !PROMQL_KEYWORDS.has(id.toLowerCase()) && !/^\d/.test(id));
  return { metrics, labels };
}

describe('docker/grafana/sip-edge-dashboard.json', () => {
  const dashboard = obj(JSON.parse(read('docker/grafana/sip-edge-dashboard.json')));
  const queries: { where: string; expr: string }[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      const o = node as Obj;
      const title = typeof o.title === 'string' ? `${where} "${o.title}"` : where;
      if (typeof o.expr === 'string') queries.push({ where: title, expr: o.expr });
      if (typeof o.definition === 'string') {
        // label_values(selector, label) asks the same as count by (label) (selector)
        const lv = /^label_values\((.*),\s*(\w+)\)$/.exec(o.definition);
        queries.push({ where: title, expr: lv ? `count by (${lv[2]}) (${lv[1]})` : o.definition });
      }
      for (const [k, v] of Object.entries(o)) walk(v, `${title}.${k}`);
    }
  };
  walk(dashboard, 'dashboard');
  const exposed = exposedMetrics();
  const sources = sourceFiles(join(ROOT, 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');

  it('has panels with queries', () => {
    expect(Array.isArray(dashboard.panels)).toBe(true);
    expect(queries.length).toBeGreaterThan(20);
  });

  it('queries only metrics the app defines', () => {
    const unknown: string[] = [];
    for (const q of queries) {
      const { metrics } = promqlRefs(q.expr);
      if (metrics.length === 0) unknown.push(`${q.where}: no metric in "${q.expr}"`);
      for (const name of metrics) {
        if (!exposed.has(name) && !definedInSource(name, sources)) unknown.push(`${q.where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('groups and filters only by labels those metrics have', () => {
    const wrong: string[] = [];
    for (const q of queries) {
      const { metrics, labels } = promqlRefs(q.expr);
      if (metrics.some((m) => !exposed.has(m))) continue; // labels unknown for source-only metrics
      const allowed = new Set([...TARGET_LABELS, ...metrics.flatMap((m) => exposed.get(m) ?? [])]);
      for (const l of labels) if (!allowed.has(l)) wrong.push(`${q.where}: label ${l} not on ${metrics.join(', ')}`);
    }
    expect(wrong).toEqual([]);
  });

  it('covers what operators asked for', () => {
    const used = new Set(queries.flatMap((q) => promqlRefs(q.expr).metrics));
    for (const name of [
      'sip_edge_invites_total',
      'sip_edge_rejections_total',
      'sip_edge_active_calls',
      'sip_edge_call_setup_seconds_bucket',
      'sip_edge_redis_command_seconds_bucket',
      'sip_edge_route_cache_lookups_total',
      'sip_edge_limit_checks_total',
      'sip_edge_drachtio_connected',
      'sip_edge_billing_spool_events',
      'sip_edge_process_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it('catches a metric that does not exist (self-check of the extraction)', () => {
    const { metrics, labels } = promqlRefs('histogram_quantile(0.99, sum by (le, nope) (rate(sip_edge_not_a_metric_bucket{instance=~"$instance"}[$__rate_interval])))');
    expect(metrics).toEqual(['sip_edge_not_a_metric_bucket']);
    expect(labels).toEqual(['instance', 'le', 'nope']);
    expect(exposed.has('sip_edge_not_a_metric_bucket') || definedInSource('sip_edge_not_a_metric_bucket', sources)).toBe(false);
  });
});
