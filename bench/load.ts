/**
 * npm run load -- --rate 100,200,300 --duration 60 --hold 5
 *
 * Starts redis-server, drachtio-server (loglevel notice), a SIPp agent and the edge as its own
 * process (or, with --target, aims at an edge already running), seeds numbers through the admin
 * API's bulk import, then runs one SIPp carrier step per rate and reports per step: offered and
 * reached calls per second, calls completed and failed, retransmissions, INVITE -> 100/180/200
 * latency p50/p95/p99, CPU and RSS of the edge and drachtio. Writes bench/results/<time>/
 * steps.csv, results.json and report.html. Loopback only; every step has a hard time bound.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanup, onCleanup, runMain } from './lib/cleanup.js';
import { toCsv } from './lib/csv.js';
import { describeMachine, machineInfo, timestamp } from './lib/machine.js';
import { formatProfile, mainThreadProfile, summarizeProfileFile } from './lib/profile.js';
import { renderHtml, stepCharts } from './lib/report.js';
import { dialPlan, seedThroughAdminApi, writeNumbersFile } from './lib/seed.js';
import { commandsPerCall, redisCommandCounts, settle, startAgent, startLocalDrachtio, startLocalRedis } from './lib/stack.js';
import { formatStepLine, runStep, STEP_COLUMNS, stepRow, type StepResult } from './lib/step.js';
import { ROOT, startBareB2bua, startEdgeProcess, type EdgeProcess, type Runner } from './lib/sut.js';

const USAGE = `npm run load -- [options]
  --rate 200 | 100,200,300     calls per second, one step per value (default 200)
  --duration 60                seconds of calls per step (default 60)
  --calls-per-step N           calls per step instead of --duration
  --hold 5                     seconds each call stays up (default 5)
  --numbers 10000              numbers to seed and dial (default 10000)
  --sut edge|bare              what to start: the edge (default) or the bare drachtio-srf B2BUA
  --target host:port           aim at an edge + drachtio already running (nothing is started but SIPp)
    --admin-url URL --token T  its admin API, to seed (token also from ADMIN_TOKEN); else --no-seed
    --agent-port N             port of the SIPp agent (the seeded agents point at it)
    --edge-pid PID             to report its CPU and RSS
  --no-seed                    dial numbers seeded by an earlier run
  --carrier-ip 127.0.0.21      SIPp carrier source address (the trunk allows exactly this /32)
  --agent-ip 127.0.0.31        SIPp agent address
  --runner dist|tsx            edge from dist/main.js as in production (default, built first) or src through tsx
  --log-level info             edge log level
  --cpu-prof                   write a V8 CPU profile of the edge and print where its time went
  --warmup 5                   seconds of calls at 50 cps before the first step (default 0)
  --step-timeout S             hard bound of a step (default: send time + hold + 20 s)
  --out DIR                    results directory (default bench/results/<time>)`;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/;

function hostOf(hostport: string): string {
  return hostport.startsWith('[') ? hostport.slice(0, hostport.indexOf(']') + 1) : hostport.split(':')[0]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '200' },
      duration: { type: 'string', default: '60' },
      'calls-per-step': { type: 'string' },
      hold: { type: 'string', default: '5' },
      numbers: { type: 'string', default: '10000' },
      sut: { type: 'string', default: 'edge' },
      target: { type: 'string' },
      'admin-url': { type: 'string' },
      token: { type: 'string' },
      'agent-port': { type: 'string' },
      'edge-pid': { type: 'string' },
      'no-seed': { type: 'boolean', default: false },
      'carrier-ip': { type: 'string', default: '127.0.0.21' },
      'agent-ip': { type: 'string', default: '127.0.0.31' },
      runner: { type: 'string', default: 'dist' },
      'log-level': { type: 'string', default: 'info' },
      'cpu-prof': { type: 'boolean', default: false },
      warmup: { type: 'string', default: '0' },
      'step-timeout': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const rates = values.rate.split(',').map((r) => Number(r.trim()));
  if (rates.some((r) => !(r > 0 && r <= 5_000))) throw new Error(`--rate: positive calls per second up to 5000, got ${values.rate}`);
  const holdMs = Number(values.hold) * 1000;
  const numbers = Number(values.numbers);
  const duration = Number(values.duration);
  const callsPerStep = values['calls-per-step'] ? Number(values['calls-per-step']) : null;
  if (!(holdMs >= 0) || !(numbers >= 1) || !(duration > 0) || (callsPerStep !== null && !(callsPerStep >= 1))) throw new Error('invalid --hold, --numbers, --duration or --calls-per-step');
  const sutName = values.sut === 'bare' ? 'bare' : 'edge';
  if (values.sut !== 'edge' && values.sut !== 'bare') throw new Error('--sut edge|bare');
  for (const ip of [values['carrier-ip'], values['agent-ip']]) if (!LOOPBACK.test(ip)) throw new Error(`${ip}: loopback addresses only`);
  if (values.target && !LOOPBACK.test(hostOf(values.target))) throw new Error(`--target ${values.target}: loopback only`);
  const runner = values.runner as Runner;
  if (runner !== 'tsx' && runner !== 'dist') throw new Error('--runner tsx|dist');

  const out = values.out ?? join(ROOT, 'bench/results', `load-${timestamp()}`);
  mkdirSync(out, { recursive: true });
  const machine = machineInfo();
  process.stdout.write(`sip-edge load test -> ${out}\nmachine: ${describeMachine(machine)}\n`);

  let target: string;
  let edge: EdgeProcess | null = null;
  const pids: Record<string, number | null | undefined> = {};
  const agentPort = values['agent-port'] ? Number(values['agent-port']) : undefined;
  const uas = await startAgent(values['agent-ip'], out, agentPort);
  pids.sipp_uas = uas.pid();
  let api: EdgeProcess['api'] | null = null;
  let redisUrl: string | null = null;

  if (values.target) {
    target = values.target;
    if (values['edge-pid']) pids.edge = Number(values['edge-pid']);
    const adminUrl = values['admin-url'];
    const token = values.token ?? process.env.ADMIN_TOKEN;
    if (adminUrl && token) {
      api = async (path, init = {}) => {
        const body = init.body === undefined ? undefined : JSON.stringify(init.body);
        const res = await fetch(`${adminUrl}${path}`, {
          method: init.method ?? (body === undefined ? 'GET' : 'POST'),
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body }),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null };
      };
    } else if (!values['no-seed']) {
      throw new Error('--target needs --admin-url and --token (or ADMIN_TOKEN) to seed, or --no-seed');
    }
  } else {
    const drachtio = await startLocalDrachtio();
    pids.drachtio = drachtio.pid();
    target = `127.0.0.1:${drachtio.sipPort}`;
    if (sutName === 'edge') {
      const redis = await startLocalRedis();
      pids.redis = redis.pid;
      redisUrl = redis.url;
      if (runner === 'dist') execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
      edge = await startEdgeProcess({
        drachtio,
        redisUrl: redis.url,
        keyPrefix: 'load:',
        dir: out,
        runner,
        logLevel: values['log-level'],
        ...(values['cpu-prof'] ? { cpuProfDir: join(out, 'profile') } : {}),
      });
      onCleanup('edge', () => edge!.stop());
      pids.edge = edge.pid();
      api = edge.api;
    } else {
      const bare = await startBareB2bua({ drachtio, agentUri: uas.uri, dir: out, ...(values['cpu-prof'] ? { cpuProfDir: join(out, 'profile') } : {}) });
      onCleanup('bare B2BUA', () => bare.stop());
      pids.bare = bare.pid();
    }
    process.stdout.write(`${sutName} up: SIP ${target}, drachtio pid ${pids.drachtio}, ${sutName} pid ${pids[sutName]}\n`);
  }

  if (api && !values['no-seed']) {
    process.stdout.write(`seeding ${numbers} numbers through the admin API (bulk import)... `);
    const ms = await seedThroughAdminApi(api, { carrierIp: values['carrier-ip'], agentUri: uas.uri, count: numbers });
    process.stdout.write(`${(ms / 1000).toFixed(1)} s\n`);
  }

  const plan = dialPlan(numbers);
  let offset = 0;
  const stepFile = (name: string, calls: number): string => {
    const file = join(out, `${name}-numbers.csv`);
    writeNumbersFile(file, plan.slice(offset, calls));
    offset += calls;
    return file;
  };
  const activeCalls = edge ? () => edge!.metric('sip_edge_active_calls') : undefined;

  const warmup = Number(values.warmup);
  if (warmup > 0) {
    const calls = Math.ceil(warmup * 50);
    process.stdout.write(`warm-up: ${calls} calls at 50 cps\n`);
    await runStep({ label: 'warmup', target, sourceIp: values['carrier-ip'], rate: 50, calls, holdMs: 500, numbersFile: stepFile('warmup', calls), dir: join(out, 'warmup'), pids });
    await settle(uas, 40_000, activeCalls);
  }

  const commandsBefore = redisUrl ? await redisCommandCounts(redisUrl) : null;
  const results: StepResult[] = [];
  for (const [i, rate] of rates.entries()) {
    const calls = callsPerStep ?? Math.ceil(rate * duration);
    const label = `step${i + 1}`;
    process.stdout.write(`${label}: ${calls} calls at ${rate} cps, hold ${holdMs / 1000} s...\n`);
    const result = await runStep({
      label,
      target,
      sourceIp: values['carrier-ip'],
      rate,
      calls,
      holdMs,
      numbersFile: stepFile(label, calls),
      dir: join(out, label),
      pids,
      ...(values['step-timeout'] ? { timeoutMs: Number(values['step-timeout']) * 1000 } : {}),
    });
    results.push(result);
    process.stdout.write(`${formatStepLine(result, sutName)}\n`);
    if (result.errorsHead && !result.pass) process.stdout.write(`  first SIPp errors (see ${join(out, label, 'sipp-uac/errors.log')}):\n  ${result.errorsHead.split('\n').slice(0, 3).join('\n  ')}\n`);
    if (i < rates.length - 1 && !(await settle(uas, 40_000, activeCalls))) process.stdout.write('  (calls of this step still open after 40 s; going on)\n');
  }

  let redisPerCall: [string, number][] | null = null;
  if (redisUrl && commandsBefore) {
    await settle(uas, 40_000, activeCalls);
    redisPerCall = commandsPerCall(commandsBefore, await redisCommandCounts(redisUrl), results.reduce((n, r) => n + r.created, 0));
    process.stdout.write(`Redis commands per call: ${redisPerCall.map(([c, n]) => `${c} ${n.toFixed(2)}`).join(', ')} (total ${redisPerCall.reduce((t, [, n]) => t + n, 0).toFixed(1)})\n`);
  }
  const rows = results.map((r) => stepRow(r, sutName));
  writeFileSync(join(out, 'steps.csv'), toCsv(rows, STEP_COLUMNS as unknown as string[]));
  writeFileSync(join(out, 'results.json'), `${JSON.stringify({ machine, options: values, target, redisCommandsPerCall: redisPerCall && Object.fromEntries(redisPerCall), steps: results }, null, 2)}\n`);
  const series = [{ name: sutName, color: sutName === 'edge' ? '#c0392b' : '#2471a3', steps: results.map((r) => ({ offered_cps: r.rate, reached_cps: r.reachedCps, failure_pct: r.failureRatio * 100, p50: r.to200.p50, p99: r.to200.p99 })) }];
  writeFileSync(
    join(out, 'report.html'),
    renderHtml({
      title: `sip-edge load test (${sutName})`,
      subtitle: `${describeMachine(machine)}. Hold ${holdMs / 1000} s, ${numbers} numbers, target ${target}.`,
      charts: stepCharts(series),
      tables: [{ title: 'Steps', columns: STEP_COLUMNS as unknown as string[], rows: rows.map((r) => STEP_COLUMNS.map((c) => r[c])) }],
    }),
  );

  await cleanup();
  if (values['cpu-prof']) {
    const file = mainThreadProfile(join(out, 'profile'));
    if (file) process.stdout.write(`\nCPU profile of the ${sutName} (main thread) ${file}\n${formatProfile(summarizeProfileFile(file))}\n`);
  }
  process.stdout.write(`\nwritten: ${join(out, 'steps.csv')}, ${join(out, 'results.json')}, ${join(out, 'report.html')}\n`);
}

runMain(main);
