/**
 * npm run bench
 *
 * In one run on one machine: (a) a bare drachtio-srf B2BUA (bareB2bua.ts) and (b) the full sip-edge
 * with 1,000,000 numbers in Redis, each behind its own drachtio-server (same config), one after
 * the other, each driven by SIPp at rising rates to find the highest rate with < 0.1 % failed calls;
 * with --anchored also (c) the same edge with its media anchored through its own rtpengine.
 * Prints them, the ratios b/a and c/b, a route-lookup micro-benchmark (cache miss and hit over the
 * 1M numbers) and the memory per active call. Results in bench/results/bench-<time>/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load.js';
import { Catalog } from '../src/stores/catalog.js';
import { redisKeys } from '../src/stores/keys.js';
import { createRedis, whenReady } from '../src/stores/redis.js';
import { freeLoopbackPort } from '../test/helpers/localProcess.js';
import { cleanup, cleanupMark, onCleanup, runMain } from './lib/cleanup.js';
import { compareAnchored, formatAnchored } from './lib/anchorSummary.js';
import { formatLookup, formatMemory, writeBenchReport, type BenchSideResult } from './lib/benchReport.js';
import { lookupBenchmark, type LookupResult } from './lib/lookupBench.js';
import { formatPipelineCost, pipelineCost, type PipelineCostResult } from './lib/pipelineBench.js';
import { formatFlood, runFlood, type FloodOptions } from './lib/flood.js';
import { describeMachine, machineInfo, timestamp } from './lib/machine.js';
import { memoryPerCall, type MemoryResult } from './lib/memory.js';
import { waitForQuiet } from './lib/procStats.js';
import { formatProfile, mainThreadProfile, summarizeProfileFile, type ProfileSummary } from './lib/profile.js';
import { rtpPortRange, startBenchRtpengine, type BenchRtpengine } from './lib/rtpengine.js';
import { dialPlan, seedNumbersDirect, seedRoutingThroughCatalog, writeNumbersFile } from './lib/seed.js';
import { settle, startAgent, startLocalDrachtio, startLocalRedis, type LocalRedis } from './lib/stack.js';
import { nextRate } from './lib/stats.js';
import { formatStepLine, runStep, type StepResult } from './lib/step.js';
import { ROOT, startBareB2bua, startEdgeProcess, type RunningProcess, type Runner } from './lib/sut.js';

const USAGE = `npm run bench -- [options]
  --numbers 1000000        numbers in Redis for the edge (default 1,000,000)
  --start 100 --step 50    first rate and increment of the search (calls per second)
  --max 1500               highest rate tried
  --resolution 25          the search refines until pass and failure are this close
  --step-seconds 10        seconds of calls per step
  --hold 1                 seconds each call stays up
  --lookup-samples 100000  route lookups per pass of the micro-benchmark (0 = skip)
  --pipeline-calls 20000   calls per stage of the per-call CPU benchmark of the edge's own work (0 = skip)
  --memory-calls 2000      calls held for the memory figure (0 = skip)
  --rounds 1               bare, edge, bare, edge...: each side's figure is its best round
  --anchored               also (c): the edge with media.anchor always through its own rtpengine
                           (userspace, loopback), alternating with the others; prints c/b and CPU
                           ms per call per process (edge, drachtio, redis, rtpengine). SIPp sends
                           SDP but no RTP: this is the signalling and ng-control cost of anchoring
  --only bare|edge|anchored  run one side only (no ratio; --only edge --anchored runs b and c)
  --only pipeline          seed, route lookups and the per-call CPU benchmark only (no SIP, a minute or two)
  --only flood             an INVITE flood from addresses matching no trunk beside a legitimate trunk
                           (legit calls failed, edge and drachtio RSS before/during/after, deaths; ~3 min):
    --flood-rate 2000 --flood-seconds 60 --legit-rate 20 --after 30 --late 70 --heap-mb 256 (0 = no cap)
  --runner dist|tsx        edge from dist/main.js as in production (default, built first) or src through tsx
  --log-level info         edge log level
  --profile                V8 CPU profiles of both processes; prints where the time went
  --out DIR                results directory (default bench/results/bench-<time>)`;

const CARRIER_IP = { bare: '127.0.0.41', edge: '127.0.0.42', anchored: '127.0.0.43' } as const;
const AGENT_IP = { bare: '127.0.0.51', edge: '127.0.0.52', anchored: '127.0.0.53' } as const;
const KEY_PREFIX = 'bench:';

type Side = 'bare' | 'edge' | 'anchored';
const SIDES: readonly Side[] = ['bare', 'edge', 'anchored'];
const LETTER: Record<Side, string> = { bare: 'a', edge: 'b', anchored: 'c' };

interface SideResult extends BenchSideResult {
  readonly side: Side;
}

interface Options {
  readonly numbers: number;
  readonly start: number;
  readonly step: number;
  readonly max: number;
  readonly resolution: number;
  readonly stepSeconds: number;
  readonly holdMs: number;
  readonly memoryCalls: number;
  readonly rounds: number;
  readonly runner: Runner;
  readonly logLevel: string;
  readonly profile: boolean;
  readonly out: string;
}

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** Warm-up, then the rate search, then the memory figure, against one system under test. */
async function runSide(side: Side, o: Options, redis: LocalRedis | null, round: number, measureMemory: boolean): Promise<SideResult> {
  const dir = join(o.out, o.rounds > 1 ? `${side}-round${round}` : side);
  mkdirSync(dir, { recursive: true });
  const title = side === 'bare' ? 'bare drachtio-srf B2BUA' : `full sip-edge, ${o.numbers.toLocaleString('en')} numbers${side === 'anchored' ? ', media anchored through rtpengine' : ''}`;
  say(`\n=== (${LETTER[side]}) ${title}${o.rounds > 1 ? `, round ${round} of ${o.rounds}` : ''} ===`);
  const mark = cleanupMark();
  const busy = await waitForQuiet(15, 120_000, (b) => say(`  machine ${b.toFixed(0)} % busy with other work; waiting for it to quiet down...`));
  say(`  machine ${busy.toFixed(0)} % busy before start`);
  const drachtio = await startLocalDrachtio();
  const agentPort = await freeLoopbackPort({ host: AGENT_IP[side] });
  const uas = await startAgent(AGENT_IP[side], dir, agentPort);
  const profileDir = o.profile ? join(dir, 'profile') : undefined;
  let sut: RunningProcess;
  let activeCalls: (() => Promise<number | null>) | undefined;
  let rtpengine: BenchRtpengine | null = null;
  if (side === 'bare') {
    sut = await startBareB2bua({ drachtio, agentUri: uas.uri, dir, ...(profileDir ? { cpuProfDir: profileDir } : {}) });
  } else {
    // Trunk and agents through the catalog now that the agent's address is known.
    const config = parseConfig({ admin: { token: 'bench-seed-token-000' }, redis: { url: redis!.url, key_prefix: KEY_PREFIX, command_timeout_ms: 10_000 } });
    const client = createRedis(config.redis, 'bench-seed');
    await whenReady(client, 5_000);
    await seedRoutingThroughCatalog(new Catalog(client, redisKeys(KEY_PREFIX)), CARRIER_IP[side], uas.uri);
    client.disconnect();
    if (side === 'anchored') {
      rtpengine = await startBenchRtpengine({ dir, range: rtpPortRange({ maxRate: o.max, holdS: o.holdMs / 1000 }) });
      say(`  rtpengine ng ${rtpengine.ng}, RTP ports ${rtpengine.range.min}-${rtpengine.range.max} (${rtpengine.range.calls} calls), pid ${rtpengine.pid()}`);
    }
    const edge = await startEdgeProcess({
      drachtio,
      redisUrl: redis!.url,
      keyPrefix: KEY_PREFIX,
      dir,
      runner: o.runner,
      logLevel: o.logLevel,
      ...(profileDir ? { cpuProfDir: profileDir } : {}),
      ...(rtpengine ? { config: { media: { anchor: 'always', rtpengine: [rtpengine.ng] } } } : {}),
    });
    sut = edge;
    activeCalls = () => edge.metric('sip_edge_active_calls');
  }
  onCleanup(side, () => sut.stop());
  const sutPid = sut.pid();
  const pids = {
    [side]: sutPid,
    drachtio: drachtio.pid(),
    sipp_uas: uas.pid(),
    ...(side !== 'bare' && redis ? { redis: redis.pid } : {}),
    ...(rtpengine ? { rtpengine: rtpengine.pid() } : {}),
  };
  const target = `127.0.0.1:${drachtio.sipPort}`;
  say(`  SIP ${target}; ${side} pid ${sutPid}, drachtio pid ${drachtio.pid()}, agent ${uas.uri}`);

  // Every call dials another number: a fixed shuffle of all numbers, consumed step after step.
  const plan = dialPlan(o.numbers, 7);
  let offset = 0;
  const numbersFile = (name: string, calls: number): string => {
    const file = join(dir, `${name}-numbers.csv`);
    writeNumbersFile(file, plan.slice(offset, calls));
    offset += calls;
    return file;
  };
  const settleAll = async (): Promise<void> => {
    if (!(await settle(uas, 40_000, activeCalls))) say('  (calls still open after 40 s; going on)');
  };

  say('  warm-up: 300 calls at 50 cps');
  await runStep({ label: 'warmup', target, sourceIp: CARRIER_IP[side], rate: 50, calls: 300, holdMs: 500, numbersFile: numbersFile('warmup', 300), dir: join(dir, 'warmup'), pids });
  await settleAll();

  const steps: StepResult[] = [];
  const tried: { rate: number; pass: boolean }[] = [];
  for (let rate = nextRate(tried, o); rate !== null; rate = nextRate(tried, o)) {
    const calls = Math.ceil(rate * o.stepSeconds);
    const label = `${rate}cps`;
    let result = await runStep({ label, target, sourceIp: CARRIER_IP[side], rate, calls, holdMs: o.holdMs, numbersFile: numbersFile(label, calls), dir: join(dir, label), pids });
    say(`  ${formatStepLine(result, side)}`);
    // Near its limit a B2BUA on UDP fails by collapse: one hiccup (a GC pause, another process on the
    // machine) delays answers past SIP's 500 ms retransmission timer and the retransmissions add
    // load. So a failed step gets one more try once the machine is quiet; the rate passes if either did.
    if (!result.pass) {
      const other = `other processes ${result.usage.otherCpuPct?.toFixed(0) ?? '-'} % CPU, peak ${result.usage.otherCpuPeakPct?.toFixed(0) ?? '-'} %`;
      say(`  failed (${other}); once more when the machine is quiet`);
      steps.push(result);
      await settleAll();
      await waitForQuiet(15, 120_000);
      result = await runStep({ label: `${label}-again`, target, sourceIp: CARRIER_IP[side], rate, calls, holdMs: o.holdMs, numbersFile: numbersFile(`${label}-again`, calls), dir: join(dir, `${label}-again`), pids });
      say(`  ${formatStepLine(result, side)}`);
    }
    steps.push(result);
    tried.push({ rate, pass: result.pass });
    await settleAll();
  }
  const passes = tried.filter((t) => t.pass).map((t) => t.rate);
  const maxRate = passes.length > 0 ? Math.max(...passes) : null;
  say(`  highest rate with < 0.1 % failed calls: ${maxRate ?? 'none'} cps`);

  let memory: MemoryResult | null = null;
  // not for the anchored side: its held calls carry no RTP, and the media watchdog would end them
  if (measureMemory && o.memoryCalls > 0 && side !== 'anchored') {
    const rate = Math.min(200, Math.max(50, Math.floor((maxRate ?? 100) / 2)));
    say(`  memory: holding ${o.memoryCalls} calls (opened at ${rate} cps)...`);
    const file = join(dir, 'memory-numbers.csv');
    writeNumbersFile(file, plan.slice(0, o.memoryCalls)); // numbers dialled before: their routes are cached already
    memory = await memoryPerCall({
      target,
      sourceIp: CARRIER_IP[side],
      dir: join(dir, 'memory'),
      numbersFile: file,
      calls: o.memoryCalls,
      rate,
      probe: () => sut.memoryAfterGc(),
      drachtioPid: drachtio.pid(),
      openCalls: activeCalls ?? (async () => uas.currentCalls()),
    });
    say(`  ${formatMemory(memory)}`);
    await settleAll();
  }
  await cleanup(25_000, mark); // this side's processes only: the shared redis-server was registered before
  let profile: ProfileSummary | null = null;
  if (profileDir) {
    const file = mainThreadProfile(profileDir);
    if (file) {
      profile = summarizeProfileFile(file, 40);
      say(`  CPU profile ${file}\n${formatProfile(profile).replace(/^/gm, '  ')}`);
    }
  }
  return { side, round, steps, maxRate, memory, profile };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      numbers: { type: 'string', default: '1000000' },
      start: { type: 'string', default: '100' },
      step: { type: 'string', default: '50' },
      max: { type: 'string', default: '1500' },
      resolution: { type: 'string', default: '25' },
      'step-seconds': { type: 'string', default: '10' },
      hold: { type: 'string', default: '1' },
      'lookup-samples': { type: 'string', default: '100000' },
      'pipeline-calls': { type: 'string', default: '20000' },
      'memory-calls': { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string' },
      anchored: { type: 'boolean', default: false },
      'flood-rate': { type: 'string', default: '2000' },
      'flood-seconds': { type: 'string', default: '60' },
      'legit-rate': { type: 'string', default: '20' },
      after: { type: 'string', default: '30' },
      late: { type: 'string', default: '70' },
      'heap-mb': { type: 'string', default: '256' },
      runner: { type: 'string', default: 'dist' },
      'log-level': { type: 'string', default: 'info' },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return say(USAGE);
  const num = (name: keyof typeof values): number => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: a number >= 0`);
    return v;
  };
  const o: Options = {
    numbers: num('numbers'),
    start: num('start'),
    step: num('step'),
    max: num('max'),
    resolution: num('resolution'),
    stepSeconds: num('step-seconds'),
    holdMs: num('hold') * 1000,
    memoryCalls: num('memory-calls'),
    rounds: Math.max(1, Math.floor(num('rounds'))),
    runner: values.runner as Runner,
    logLevel: values['log-level'],
    profile: values.profile,
    // absolute: SIPp runs in its own directory and is handed paths under this one
    out: values.out ? resolve(values.out) : join(ROOT, 'bench/results', `bench-${timestamp()}`),
  };
  if (o.runner !== 'tsx' && o.runner !== 'dist') throw new Error('--runner tsx|dist');
  if (values.only && !['bare', 'edge', 'anchored', 'pipeline', 'flood'].includes(values.only)) throw new Error('--only bare|edge|anchored|pipeline|flood');
  if (values.only === 'flood') return floodOnly(o, num);
  const pipelineOnly = values.only === 'pipeline';
  const chosen = new Set<Side>(pipelineOnly ? [] : values.only ? [values.only as Side] : ['bare', 'edge']);
  if (values.anchored && !pipelineOnly) chosen.add('anchored');
  const sides = SIDES.filter((s) => chosen.has(s));
  const edgeSides = sides.some((s) => s !== 'bare');
  if (sides.includes('anchored')) rtpPortRange({ maxRate: o.max, holdS: o.holdMs / 1000 }); // fails now, not after seeding, when --max and --hold need more ports than there are
  mkdirSync(o.out, { recursive: true });
  const machine = machineInfo();
  const started = Date.now();
  say(`sip-edge benchmark -> ${o.out}\nmachine: ${describeMachine(machine)}`);
  if (o.runner === 'dist' && edgeSides) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  let redis: LocalRedis | null = null;
  let seedMs: number | null = null;
  let lookup: LookupResult | null = null;
  let pipeline: PipelineCostResult | null = null;
  if (edgeSides || pipelineOnly) {
    redis = await startLocalRedis();
    const config = parseConfig({ admin: { token: 'bench-seed-token-000' }, redis: { url: redis.url, key_prefix: KEY_PREFIX, command_timeout_ms: 10_000 } });
    const client = createRedis(config.redis, 'bench-seed');
    await whenReady(client, 5_000);
    process.stdout.write(`seeding ${o.numbers.toLocaleString('en')} numbers into Redis (pipelined, catalog key layout)...`);
    seedMs = await seedNumbersDirect(client, redisKeys(KEY_PREFIX), o.numbers);
    const mem = /used_memory_human:(\S+)/.exec(await client.info('memory'))?.[1];
    client.disconnect();
    say(` ${(seedMs / 1000).toFixed(1)} s (Redis ${mem})`);
    const samples = Math.min(num('lookup-samples'), o.numbers);
    if (samples > 0) {
      say(`route lookups: ${samples.toLocaleString('en')} random numbers, RedisRouteStore.number(), one at a time`);
      lookup = await lookupBenchmark({ redisUrl: redis.url, keyPrefix: KEY_PREFIX, total: o.numbers, samples });
      say(`  ${formatLookup(lookup)}`);
    }
    const calls = Math.min(num('pipeline-calls'), Math.floor(o.numbers / 4));
    if (calls > 0) {
      say(`per-call CPU of the edge's own work (in this process, no SIP), ${calls.toLocaleString('en')} calls per stage:`);
      pipeline = await pipelineCost({ redisUrl: redis.url, keyPrefix: KEY_PREFIX, total: o.numbers, calls, carrierIp: CARRIER_IP.edge, agentUri: `sip:agent@${AGENT_IP.edge}:5060`, ...(redis.pid !== null ? { redisPid: redis.pid } : {}) });
      say(formatPipelineCost(pipeline).replace(/^/gm, '  '));
    }
  }

  const results: SideResult[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const side of sides) results.push(await runSide(side, o, redis, round, round === o.rounds));
  }

  /** A side's figure: its best round (other work on the machine can only lower a round). */
  const best = (side: Side): { maxRate: number | null; rounds: (number | null)[] } | null => {
    const rounds = results.filter((r) => r.side === side).map((r) => r.maxRate);
    if (rounds.length === 0) return null;
    const rates = rounds.filter((r): r is number => r !== null);
    return { maxRate: rates.length > 0 ? Math.max(...rates) : null, rounds };
  };
  const bare = best('bare');
  const edge = best('edge');
  const anchoredBest = best('anchored');
  const ratio = bare?.maxRate && edge?.maxRate ? edge.maxRate / bare.maxRate : null;
  const stepsOf = (side: Side): StepResult[] => results.filter((r) => r.side === side).flatMap((r) => r.steps);
  const anchored = edge && anchoredBest ? compareAnchored({ maxRate: edge.maxRate, steps: stepsOf('edge') }, { maxRate: anchoredBest.maxRate, steps: stepsOf('anchored') }) : null;
  const perRound = (b: { rounds: (number | null)[] }): string => (o.rounds > 1 ? ` (rounds: ${b.rounds.map((r) => r ?? 'none').join(', ')})` : '');
  const numbers = o.numbers.toLocaleString('en');
  const summary = [
    `machine: ${describeMachine(machine)}`,
    ...(bare ? [`(a) bare drachtio-srf B2BUA: ${bare.maxRate ?? 'none'} calls/s with < 0.1 % failed${perRound(bare)}`] : []),
    ...(edge ? [`(b) full sip-edge, ${numbers} numbers: ${edge.maxRate ?? 'none'} calls/s with < 0.1 % failed${perRound(edge)}`] : []),
    ...(anchoredBest ? [`(c) full sip-edge, ${numbers} numbers, media anchored through rtpengine (SDP, no RTP): ${anchoredBest.maxRate ?? 'none'} calls/s with < 0.1 % failed${perRound(anchoredBest)}`] : []),
    ...(ratio !== null ? [`ratio b/a: ${ratio.toFixed(3)} (target >= 0.95: ${ratio >= 0.95 ? 'met' : 'NOT met'})`] : []),
    ...(anchored ? formatAnchored(anchored) : []),
    ...(lookup ? [`route lookup over ${numbers} numbers: ${formatLookup(lookup).replace(/\n\s*/g, '; ')}`] : []),
    ...(pipeline ? [`edge CPU per call by stage (no SIP): ${pipeline.stages.map((s) => `${s.stage} ${s.cpuUs.toFixed(0)} us${s.redisUs === null ? '' : ` (+ redis ${s.redisUs.toFixed(0)} us)`}`).join('; ')}`] : []),
    ...(seedMs !== null ? [`seeding ${numbers} numbers: ${(seedMs / 1000).toFixed(1)} s`] : []),
    ...results.filter((r) => r.memory).map((r) => `memory per active call, ${r.side}: ${formatMemory(r.memory!)}`),
    ...(sides.length > 0 ? [`steps of ${o.stepSeconds} s, hold ${o.holdMs / 1000} s, edge log level ${o.logLevel}, runner ${o.runner}`] : []),
    `total ${((Date.now() - started) / 60000).toFixed(1)} min`,
  ];
  say(`\n=== summary ===\n${summary.join('\n')}`);
  const written = writeBenchReport({
    out: o.out,
    machine,
    summary,
    json: { machine, options: o, bare: bare ?? null, edge: edge ?? null, anchoredEdge: anchoredBest ?? null, ratio, anchored, lookup, pipeline, seedMs, summary, sides: results },
    numbers: o.numbers,
    rounds: o.rounds,
    sides: results,
    anchored,
    lookup,
    pipeline,
  });
  say(`\nwritten: ${written.join(', ')}`);
}

/** --only flood: its own stack (Redis, drachtio-server, SIPp agent, the edge), its own summary. */
async function floodOnly(o: Options, num: (name: 'flood-rate' | 'flood-seconds' | 'legit-rate' | 'after' | 'late' | 'heap-mb') => number): Promise<void> {
  const flood: FloodOptions = {
    rate: num('flood-rate'),
    floodSeconds: num('flood-seconds'),
    legitRate: num('legit-rate'),
    afterSeconds: num('after'),
    lateSeconds: Math.max(num('late'), num('after')),
    heapMb: num('heap-mb') || null,
    runner: o.runner,
    logLevel: o.logLevel,
    out: o.out.replace(/bench-(\d)/, 'flood-$1'),
  };
  say(`sip-edge flood benchmark -> ${flood.out}\nmachine: ${describeMachine(machineInfo())}`);
  if (flood.runner === 'dist') execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const result = await runFlood(flood, say);
  const summary = formatFlood(result, flood);
  say(`\n=== summary ===\n${summary.join('\n')}`);
  writeFileSync(join(flood.out, 'summary.txt'), `${summary.join('\n')}\n`);
}

runMain(main);
