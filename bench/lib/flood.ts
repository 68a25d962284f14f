/**
 * npm run bench -- --only flood
 *
 * An INVITE flood from addresses that match no trunk (a raw UDP sender in this process, from
 * 127.0.0.61..64) beside a legitimate trunk placing calls with SIPp, against the edge as operators
 * run it (its own process, heap capped) and drachtio-server. Prints the legitimate calls that
 * failed, the RSS of the edge and of drachtio-server before, during and after the flood, and
 * whether either process died. Bounded: the flood lasts --flood-seconds, the whole run about
 * twice that plus two minutes.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { Catalog } from '../../src/stores/catalog.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady } from '../../src/stores/redis.js';
import { freeLoopbackPort } from '../../test/helpers/localProcess.js';
import { onCleanup } from './cleanup.js';
import { toCsv } from './csv.js';
import { rssBytes, waitForQuiet } from './procStats.js';
import { percentile } from './stats.js';
import { seedNumbersDirect, seedRoutingThroughCatalog, writeNumbersFile } from './seed.js';
import { runLoadUac } from './sippLoad.js';
import { startAgent, startLocalDrachtio, startLocalRedis } from './stack.js';
import { startEdgeProcess, type MemoryUsage, type Runner } from './sut.js';

export interface FloodOptions {
  /** INVITEs per second of the flood, over all flooding addresses */
  readonly rate: number;
  readonly floodSeconds: number;
  /** legitimate calls per second, during the whole flood */
  readonly legitRate: number;
  /** the "after" sample: this long after the flood ended */
  readonly afterSeconds: number;
  /** also sample once more this long after the flood (drachtio-server forgets unanswered requests after 64 s) */
  readonly lateSeconds: number;
  /** --max-old-space-size of the edge (MB); null = Node's default */
  readonly heapMb: number | null;
  readonly runner: Runner;
  readonly logLevel: string;
  readonly out: string;
}

const CARRIER_IP = '127.0.0.43';
const AGENT_IP = '127.0.0.53';
const FLOOD_IPS = ['127.0.0.61', '127.0.0.62', '127.0.0.63', '127.0.0.64'];
const KEY_PREFIX = 'flood:';
const NUMBERS = 10_000;

interface Sample {
  readonly t: number;
  readonly phase: 'before' | 'flood' | 'after';
  readonly edgeRss: number | null;
  readonly drachtioRss: number | null;
  readonly floodSent: number;
}

export interface FloodResult {
  readonly legit: { readonly offered: number; readonly successful: number; readonly failed: number; readonly retransmissions: number; readonly p99To200Ms: number | null };
  readonly floodSent: number;
  readonly rss: Record<'edge' | 'drachtio', { before: number | null; peak: number | null; endOfFlood: number | null; after: number | null; late: number | null }>;
  readonly edgeHeapAfterGc: { before: MemoryUsage | null; after: MemoryUsage | null };
  readonly died: { edge: boolean; drachtio: boolean };
  readonly edgeCounters: Record<string, number | null>;
  readonly samples: readonly Sample[];
}

/** An INVITE such as a scanner or a misrouted carrier sends, ~600 bytes with its SDP. */
function floodInvite(source: string, port: number, n: number): Buffer {
  const tag = randomBytes(4).toString('hex');
  const sdp = ['v=0', `o=- ${n} 1 IN IP4 ${source}`, 's=-', `c=IN IP4 ${source}`, 't=0 0', 'm=audio 40000 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  return Buffer.from(
    [
      `INVITE sip:+1212200${String(n % 10_000).padStart(4, '0')}@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP ${source}:${port};branch=z9hG4bK${tag}${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:+14155550100@${source}>;tag=${tag}`,
      `To: <sip:+1212200${String(n % 10_000).padStart(4, '0')}@127.0.0.1>`,
      `Call-ID: flood-${tag}-${n}@${source}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:flood@${source}:${port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n'),
  );
}

/** Sends `rate` INVITEs per second for `seconds`, spread over FLOOD_IPS, in 10 ms slices. */
async function flood(target: { host: string; port: number }, rate: number, seconds: number, sent: { n: number }): Promise<void> {
  const sockets = await Promise.all(
    FLOOD_IPS.map(
      (ip) =>
        new Promise<{ ip: string; port: number; send: (b: Buffer) => void; close: () => void }>((resolve, reject) => {
          const s = createSocket('udp4');
          s.once('error', reject);
          // answers (100 Trying, the few 403s) are read and thrown away
          s.on('message', () => undefined);
          s.bind({ address: ip, port: 0 }, () => {
            s.off('error', reject);
            s.on('error', () => undefined);
            resolve({ ip, port: s.address().port, send: (b) => s.send(b, target.port, target.host), close: () => s.close() });
          });
        }),
    ),
  );
  const total = Math.round(rate * seconds);
  const started = Date.now();
  while (sent.n < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
    while (sent.n < due) {
      const s = sockets[sent.n % sockets.length]!;
      s.send(floodInvite(s.ip, s.port, sent.n));
      sent.n++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const s of sockets) s.close();
}

const mib = (b: number | null | undefined): string => (b === null || b === undefined ? '-' : `${(b / 1048576).toFixed(0)} MiB`);
const pct = (now: number | null, base: number | null): string => (now === null || base === null || base === 0 ? '' : ` (${now >= base ? '+' : ''}${(((now - base) / base) * 100).toFixed(0)} %)`);

export async function runFlood(o: FloodOptions, say: (line: string) => void): Promise<FloodResult> {
  mkdirSync(o.out, { recursive: true });
  const busy = await waitForQuiet(15, 180_000, (b) => say(`  machine ${b.toFixed(0)} % busy with other work; waiting for it to quiet down...`));
  say(`  machine ${busy.toFixed(0)} % busy before start`);
  const redis = await startLocalRedis();
  const config = parseConfig({ admin: { token: 'bench-seed-token-000' }, redis: { url: redis.url, key_prefix: KEY_PREFIX, command_timeout_ms: 10_000 } });
  const client = createRedis(config.redis, 'flood-seed');
  await whenReady(client, 5_000);
  await seedNumbersDirect(client, redisKeys(KEY_PREFIX), NUMBERS);
  const drachtio = await startLocalDrachtio();
  const agentPort = await freeLoopbackPort({ host: AGENT_IP });
  const uas = await startAgent(AGENT_IP, join(o.out, 'agent'), agentPort);
  await seedRoutingThroughCatalog(new Catalog(client, redisKeys(KEY_PREFIX)), CARRIER_IP, uas.uri);
  client.disconnect();
  const edge = await startEdgeProcess({
    drachtio,
    redisUrl: redis.url,
    keyPrefix: KEY_PREFIX,
    dir: o.out,
    runner: o.runner,
    logLevel: o.logLevel,
    ...(o.heapMb ? { nodeFlags: [`--max-old-space-size=${o.heapMb}`] } : {}),
  });
  onCleanup('edge', () => edge.stop());
  const edgePid = edge.pid()!;
  const drachtioPid = drachtio.pid()!;
  const target = { host: '127.0.0.1', port: drachtio.sipPort };
  say(`  edge pid ${edgePid} (heap cap ${o.heapMb ?? 'default'} MB), drachtio pid ${drachtioPid}, SIP 127.0.0.1:${drachtio.sipPort}`);

  const numbersFile = (name: string, calls: number): string => {
    const file = join(o.out, `${name}-numbers.csv`);
    writeNumbersFile(file, Array.from({ length: calls }, (_, i) => i % NUMBERS));
    return file;
  };
  say('  warm-up: 100 legitimate calls at 20 cps');
  await runLoadUac({ target: `127.0.0.1:${drachtio.sipPort}`, sourceIp: CARRIER_IP, dir: join(o.out, 'warmup'), numbersFile: numbersFile('warmup', 100), rate: 20, calls: 100, limit: 200, holdMs: 1000, timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 3_000));

  const samples: Sample[] = [];
  const sent = { n: 0 };
  const t0 = Date.now();
  let phase: Sample['phase'] = 'before';
  const sample = (): Sample => {
    const s = { t: (Date.now() - t0) / 1000, phase, edgeRss: rssBytes(edgePid), drachtioRss: rssBytes(drachtioPid), floodSent: sent.n };
    samples.push(s);
    return s;
  };
  const heapBefore = await edge.memoryAfterGc();
  const before = sample();
  say(`  before: edge RSS ${mib(before.edgeRss)} (heap after GC ${mib(heapBefore?.heapUsed)}), drachtio RSS ${mib(before.drachtioRss)}`);
  const timer = setInterval(sample, 1000);

  // the legitimate trunk: calls through the whole flood and 10 s beyond it
  const legitCalls = Math.round(o.legitRate * (o.floodSeconds + 10));
  phase = 'flood';
  const legit = runLoadUac({
    target: `127.0.0.1:${drachtio.sipPort}`,
    sourceIp: CARRIER_IP,
    dir: join(o.out, 'legit'),
    numbersFile: numbersFile('legit', legitCalls),
    rate: o.legitRate,
    calls: legitCalls,
    limit: 1000,
    holdMs: 2000,
    timeoutMs: (o.floodSeconds + 60) * 1000,
  });
  say(`  flood: ${o.rate} INVITE/s for ${o.floodSeconds} s from ${FLOOD_IPS.join(', ')} (no trunk); legitimate trunk ${CARRIER_IP} at ${o.legitRate} calls/s`);
  await flood(target, o.rate, o.floodSeconds, sent);
  const endOfFlood = sample();
  phase = 'after';
  const legitResult = await legit;
  const stats = legitResult.stats;
  say(`  flood done: ${sent.n} INVITEs sent; edge RSS ${mib(endOfFlood.edgeRss)}, drachtio RSS ${mib(endOfFlood.drachtioRss)}`);
  const floodEnd = Date.now();
  const at = async (seconds: number): Promise<Sample> => {
    const wait = floodEnd + seconds * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return sample();
  };
  const after = await at(o.afterSeconds);
  const heapAfter = await edge.memoryAfterGc();
  say(`  ${o.afterSeconds} s after: edge RSS ${mib(after.edgeRss)}${pct(after.edgeRss, before.edgeRss)} (heap after GC ${mib(heapAfter?.heapUsed)}), drachtio RSS ${mib(after.drachtioRss)}${pct(after.drachtioRss, before.drachtioRss)}`);
  const late = await at(o.lateSeconds);
  say(`  ${o.lateSeconds} s after: edge RSS ${mib(late.edgeRss)}${pct(late.edgeRss, before.edgeRss)}, drachtio RSS ${mib(late.drachtioRss)}${pct(late.drachtioRss, before.drachtioRss)}`);
  clearInterval(timer);

  const counters: Record<string, number | null> = {
    invites_dropped: await edge.metric('sip_edge_invites_total', { outcome: 'dropped' }),
    invites_rejected: await edge.metric('sip_edge_invites_total', { outcome: 'rejected' }),
    source_flood_drops: await edge.metric('sip_edge_rejections_total', { reason: 'source_flood' }),
    pending_invites_now: await edge.metric('sip_edge_pending_invites'),
    log_lines_suppressed: await edge.metric('sip_edge_log_lines_suppressed_total'),
  };
  const peak = (key: 'edgeRss' | 'drachtioRss'): number | null => samples.reduce<number | null>((m, s) => (s[key] === null ? m : Math.max(m ?? 0, s[key]!)), null);
  const died = { edge: edge.pid() === null, drachtio: drachtio.pid() === null };
  const result: FloodResult = {
    legit: {
      offered: legitCalls,
      successful: stats?.successful ?? 0,
      failed: stats?.failed ?? legitCalls,
      retransmissions: stats?.retransmissions ?? 0,
      p99To200Ms: percentile([...legitResult.timings.to200].sort((a, b) => a - b), 99),
    },
    floodSent: sent.n,
    rss: {
      edge: { before: before.edgeRss, peak: peak('edgeRss'), endOfFlood: endOfFlood.edgeRss, after: after.edgeRss, late: late.edgeRss },
      drachtio: { before: before.drachtioRss, peak: peak('drachtioRss'), endOfFlood: endOfFlood.drachtioRss, after: after.drachtioRss, late: late.drachtioRss },
    },
    edgeHeapAfterGc: { before: heapBefore, after: heapAfter },
    died,
    edgeCounters: counters,
    samples,
  };
  writeFileSync(join(o.out, 'flood-samples.csv'), toCsv(samples.map((s) => ({ ...s })), ['t', 'phase', 'edgeRss', 'drachtioRss', 'floodSent']));
  writeFileSync(join(o.out, 'flood.json'), `${JSON.stringify({ options: o, ...result, samples: undefined }, null, 2)}\n`);
  return result;
}

/** The summary lines of a flood run, goals beside the figures. */
export function formatFlood(r: FloodResult, o: FloodOptions): string[] {
  const within = (now: number | null, base: number | null): string => (now !== null && base !== null ? (now <= base * 1.1 ? 'met' : 'NOT met') : '-');
  const row = (name: 'edge' | 'drachtio'): string => {
    const x = r.rss[name];
    return `${name} RSS: before ${mib(x.before)}, peak ${mib(x.peak)}, end of flood ${mib(x.endOfFlood)}, ${o.afterSeconds} s after ${mib(x.after)}${pct(x.after, x.before)} (goal within 10 %: ${within(x.after, x.before)}), ${o.lateSeconds} s after ${mib(x.late)}${pct(x.late, x.before)}`;
  };
  return [
    `flood: ${r.floodSent} INVITEs at ${o.rate}/s for ${o.floodSeconds} s from ${FLOOD_IPS.length} addresses matching no trunk; edge heap cap ${o.heapMb ?? 'default'} MB`,
    `legitimate calls: ${r.legit.offered} offered at ${o.legitRate}/s, ${r.legit.successful} completed, ${r.legit.failed} failed (goal 0), ${r.legit.retransmissions} retransmissions, INVITE->200 p99 ${r.legit.p99To200Ms ?? '-'} ms`,
    row('edge'),
    row('drachtio'),
    `edge heap after GC: before ${mib(r.edgeHeapAfterGc.before?.heapUsed)}, ${o.afterSeconds} s after ${mib(r.edgeHeapAfterGc.after?.heapUsed)}`,
    `died: edge ${r.died.edge ? 'YES' : 'no'}, drachtio ${r.died.drachtio ? 'YES' : 'no'} (goal: never)`,
    `edge counters: ${Object.entries(r.edgeCounters).map(([k, v]) => `${k} ${v ?? '-'}`).join(', ')}`,
  ];
}
