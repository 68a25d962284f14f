/**
 * npm run compare -- --against <git ref | bare> [--rate 150] [--steps 3] [--duration 15]
 *
 * CPU per call of this checkout's edge against another build (a git ref, checked out in a
 * temporary worktree) or against the bare drachtio-srf B2BUA, measured at the same time: two
 * `npm run load` runs side by side, each with its own Redis, drachtio-server, SIPp agent and
 * carrier addresses. Both see the same machine, so their figures can be compared even on a VM
 * whose speed drifts from one minute to the next (two runs one after the other cannot).
 * Prints, per step, each side's CPU ms per call, the ratio, failures and redis-server's CPU.
 */
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { track } from '../test/helpers/localProcess.js';
import { onCleanup, runMain } from './lib/cleanup.js';
import { toCsv } from './lib/csv.js';
import { timestamp } from './lib/machine.js';
import { COMPARISON_COLUMNS, compareSides, formatComparison, type SideSteps } from './lib/compareSteps.js';
import { ROOT } from './lib/sut.js';

const USAGE = `npm run compare -- --against <git ref | bare> [options]
  --against REF|bare     the other side: a git ref of this repository (its edge) or the bare B2BUA
  --rate 150             calls per second of every step, on each side (the machine carries both)
  --steps 3              steps per side (the first is partly warm-up)
  --duration 15          seconds per step
  --hold 1               seconds each call stays up
  --numbers 30000        numbers seeded and dialled per side
  --out DIR              results directory (default bench/results/compare-<time>)`;

interface Side {
  readonly name: string;
  readonly cwd: string;
  readonly sut: 'edge' | 'bare';
  readonly carrierIp: string;
  readonly agentIp: string;
}

/** A detached worktree of `ref` sharing this checkout's node_modules; removed on the way out. */
function worktreeOf(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sip-edge-compare-'));
  rmSync(dir, { recursive: true });
  execFileSync('git', ['worktree', 'add', '--detach', dir, ref], { cwd: ROOT, stdio: 'ignore' });
  onCleanup(`worktree ${dir}`, async () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (!existsSync(join(dir, 'bench/load.ts'))) throw new Error(`${ref} has no bench/load.ts to run`);
  return dir;
}

/** One `npm run load` run; resolves with its results.json once it exits. */
function runLoad(side: Side, o: { rate: number; steps: number; duration: number; hold: number; numbers: number }, out: string): Promise<SideSteps> {
  const rates = Array.from({ length: o.steps }, () => o.rate).join(',');
  const args = ['--import', 'tsx', 'bench/load.ts', '--sut', side.sut, '--rate', rates, '--duration', String(o.duration), '--hold', String(o.hold),
    '--numbers', String(o.numbers), '--warmup', '5', '--carrier-ip', side.carrierIp, '--agent-ip', side.agentIp, '--out', out];
  mkdirSync(out, { recursive: true });
  const log = openSync(join(out, 'load.log'), 'a');
  const proc = track(spawn(process.execPath, args, { cwd: side.cwd, stdio: ['ignore', log, log] }));
  closeSync(log);
  // SIGTERM lets the load run stop what it started (its Redis, drachtio-server, SIPp).
  onCleanup(`load run ${side.name}`, () => new Promise<void>((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  }));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      const file = join(out, 'results.json');
      if (code !== 0 || !existsSync(file)) return reject(new Error(`load run ${side.name} exited ${code}; see ${join(out, 'load.log')}`));
      const results = JSON.parse(readFileSync(file, 'utf8')) as { steps: SideSteps['steps'] };
      resolve({ name: side.name, sut: side.sut, steps: results.steps });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      against: { type: 'string' },
      rate: { type: 'string', default: '150' },
      steps: { type: 'string', default: '3' },
      duration: { type: 'string', default: '15' },
      hold: { type: 'string', default: '1' },
      numbers: { type: 'string', default: '30000' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help || !values.against) {
    process.stdout.write(`${USAGE}\n`);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const num = (name: 'rate' | 'steps' | 'duration' | 'hold' | 'numbers', max: number): number => {
    const v = Number(values[name]);
    if (!(v > 0 && v <= max)) throw new Error(`--${name}: a number above 0 and at most ${max}`);
    return v;
  };
  const o = { rate: num('rate', 1000), steps: Math.floor(num('steps', 10)), duration: num('duration', 120), hold: num('hold', 60), numbers: Math.floor(num('numbers', 1_000_000)) };
  const out = values.out ?? join(ROOT, 'bench/results', `compare-${timestamp()}`);
  mkdirSync(out, { recursive: true });

  const mine: Side = { name: 'this checkout', cwd: ROOT, sut: 'edge', carrierIp: '127.0.0.61', agentIp: '127.0.0.71' };
  const other: Side = values.against === 'bare'
    ? { name: 'bare B2BUA', cwd: ROOT, sut: 'bare', carrierIp: '127.0.0.62', agentIp: '127.0.0.72' }
    : { name: values.against, cwd: worktreeOf(values.against), sut: 'edge', carrierIp: '127.0.0.62', agentIp: '127.0.0.72' };
  process.stdout.write(`comparing ${mine.name} with ${other.name}: ${o.steps} steps of ${o.duration} s at ${o.rate} calls/s each, side by side -> ${out}\n`);
  const [a, b] = await Promise.all([runLoad(mine, o, join(out, 'a')), runLoad(other, o, join(out, 'b'))]);
  const rows = compareSides(a, b);
  process.stdout.write(`${formatComparison(a, b, rows)}\n`);
  writeFileSync(join(out, 'comparison.csv'), toCsv(rows, COMPARISON_COLUMNS));
  process.stdout.write(`written: ${join(out, 'comparison.csv')} (each side's own report in a/ and b/)\n`);
}

runMain(main);
