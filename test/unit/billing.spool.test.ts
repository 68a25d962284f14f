import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callStarted } from '../../src/billing/events.js';
import type { SinkOp } from '../../src/billing/sinkOp.js';
import { Spool } from '../../src/billing/spool.js';
import { createLogger } from '../../src/observability/logger.js';

const logger = createLogger('silent');
const plan = { id: 'actual_1/1', rule: 'actual' as const, minimum_s: 1, increment_s: 1 };
const op = (n: number): SinkOp => ({
  mode: 'plain',
  owner: 'edge~b',
  event: callStarted(
    { callId: `c${n}`, direction: 'inbound', workspaceId: 'ws', trunkId: 't', trunkKind: 'byoc', numberId: null, telephony: null, agentId: null, from: 'a', to: 'b', browserTest: false, startedAt: n },
    plan,
    'edge',
  ),
});
const ids = (ops: readonly SinkOp[]) => ops.map((o) => o.event.call_id);
/** A pid no process has: above the kernel's pid_max. */
const DEAD_PID = 4_194_305;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sip-edge-spool-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('billing spool', () => {
  it('gives ops back in order, batch by batch, and removes its file once replayed', () => {
    const dir = tempDir();
    const sizes: number[] = [];
    const spool = new Spool(dir, 'edge/1', logger, (n) => sizes.push(n));
    spool.open();
    spool.append([op(1), op(2), op(3)]);
    spool.append([op(4)]);
    expect(spool.pending).toBe(4);

    const first = spool.read(3)!;
    expect(ids(first.ops)).toEqual(['c1', 'c2', 'c3']);
    first.commit(2); // the third failed: it comes back first
    expect(spool.pending).toBe(2);
    const second = spool.read(10)!;
    expect(ids(second.ops)).toEqual(['c3', 'c4']);
    second.commit(2);
    expect(spool.pending).toBe(0);
    expect(spool.read(10)).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
    expect(sizes.at(-1)).toBe(0);

    spool.append([op(5)]);
    expect(ids(spool.read(10)!.ops)).toEqual(['c5']);
  });

  it('adopts the files of dead processes, resumes at their offset, and skips a torn last line', () => {
    const dir = tempDir();
    const lines = [op(1), op(2), op(3)].map((o) => JSON.stringify(o) + '\n');
    const name = `old.${DEAD_PID}.0f0f0f0f.jsonl`;
    writeFileSync(join(dir, name), lines.join('') + '{"mode":"pla');
    writeFileSync(join(dir, `${name}.offset`), String(Buffer.byteLength(lines[0]!)));
    const spool = new Spool(dir, 'edge', logger);
    expect(spool.open()).toBe(2);
    spool.append([op(4)]);
    const batch = spool.read(10)!;
    expect(ids(batch.ops)).toEqual(['c2', 'c3']);
    batch.commit(2);
    expect(ids(spool.read(10)!.ops)).toEqual(['c4']);
    expect(existsSync(join(dir, name))).toBe(false);
  });

  it('leaves the file of a running process alone', () => {
    const dir = tempDir();
    // pid 1 always runs.
    writeFileSync(join(dir, 'peer.1.abcd.jsonl'), JSON.stringify(op(1)) + '\n');
    const spool = new Spool(dir, 'edge', logger);
    expect(spool.open()).toBe(0);
    expect(spool.read(10)).toBeNull();
    expect(readdirSync(dir)).toContain('peer.1.abcd.jsonl');
  });

  it('keeps what was not committed on disk for the next process', () => {
    const dir = tempDir();
    const a = new Spool(dir, 'edge', logger);
    a.open();
    a.append([op(1), op(2)]);
    a.read(10)!.commit(1);
    // A sibling in the same process leaves an open spool alone...
    const sibling = new Spool(dir, 'edge', logger);
    expect(sibling.open()).toBe(0);
    a.close();
    // ...the same pid again after the first closed (a restarted container) adopts its file.
    const b = new Spool(dir, 'edge', logger);
    expect(b.open()).toBe(1);
    expect(ids(b.read(10)!.ops)).toEqual(['c2']);
  });
});
