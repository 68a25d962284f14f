import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { SinkOp } from './sinkOp.js';

/** One spool file: JSON lines read from `offset` on. */
interface Segment {
  readonly path: string;
  offset: number;
  pending: number;
  /** the file this process appends to (all others are adopted and only read) */
  readonly own: boolean;
}

export interface SpoolBatch {
  readonly ops: readonly SinkOp[];
  /** Marks the first n ops as appended to Redis. */
  commit(n: number): void;
}

const READ_CHUNK = 1 << 20;
/** `<instance>.<pid>.<boot>.jsonl`, adopted ones `<instance>.<pid>.<boot>.a<ms>-<n>.jsonl` */
const FILE = /\.(\d+)\.([a-z0-9]+)(?:\.a[\d-]+)?\.jsonl$/;
/** `<pid>.<boot>` of the spools open in this process: never adopted by a sibling. */
const LIVE = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function countLines(path: string, from: number): number {
  const buf = readFileSync(path);
  let n = 0;
  for (let i = from; i < buf.length; i++) if (buf[i] === 0x0a) n++;
  return n;
}

/**
 * An append-only local spool (JSON lines) for billing events Redis could not take, replayed in
 * order. Each spool writes `<instance>.<pid>.<boot>.jsonl` in the spool directory, with a sidecar
 * `.offset` file recording how far it has been replayed. On open, files of processes that no longer
 * run (a previous life of this edge, or one that crashed; a file of this very pid that no open spool
 * of this process owns: a restarted container) are adopted by an atomic rename, so exactly one
 * process replays them; they are replayed before anything new. The spool dir must be local to one
 * host (pids are checked with kill(pid, 0)) and should survive restarts of the process.
 */
export class Spool {
  private readonly segments: Segment[] = [];
  private readonly ownPath: string;
  private fd: number | null = null;
  private total = 0;
  private readonly boot: string;

  constructor(
    private readonly dir: string,
    instanceId: string,
    private readonly logger: Logger,
    private readonly onSize: (pending: number) => void = () => undefined,
  ) {
    const safe = instanceId.replace(/[^A-Za-z0-9_-]/g, '_');
    this.boot = `${process.pid}.${randomBytes(4).toString('hex')}`;
    this.ownPath = join(dir, `${safe}.${this.boot}.jsonl`);
    LIVE.add(this.boot);
  }

  /** Creates the directory and adopts orphaned spool files; returns how many events they hold. */
  open(): number {
    mkdirSync(this.dir, { recursive: true });
    const found = readdirSync(this.dir)
      .map((name) => ({ name, m: FILE.exec(name) }))
      .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
      .filter((f) => (Number(f.m[1]) === process.pid ? !LIVE.has(`${f.m[1]}.${f.m[2]}`) : !pidAlive(Number(f.m[1]))))
      .map((f) => ({ name: f.name, mtime: statSync(join(this.dir, f.name)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));
    let adopted = 0;
    found.forEach((f, i) => {
      const from = join(this.dir, f.name);
      const to = this.ownPath.replace(/\.jsonl$/, `.a${Date.now()}-${i}.jsonl`);
      try {
        renameSync(from, to);
      } catch {
        return; // another process adopted it first
      }
      let offset = 0;
      try {
        offset = Number(readFileSync(`${from}.offset`, 'utf8')) || 0;
        unlinkSync(`${from}.offset`);
      } catch {
        // no sidecar: replay from the start (duplicates are skipped by idempotency keys)
      }
      const pending = countLines(to, offset);
      if (pending === 0) {
        this.unlink(to);
        return;
      }
      this.segments.push({ path: to, offset, pending, own: false });
      adopted += pending;
    });
    this.total += adopted;
    this.onSize(this.total);
    if (adopted > 0) this.logger.warn({ events: adopted, dir: this.dir }, 'billing spool: adopted events of a previous run, replaying');
    return adopted;
  }

  get pending(): number {
    return this.total;
  }

  /** Appends ops in order and syncs them to disk. Throws when the disk refuses. */
  append(ops: readonly SinkOp[]): void {
    if (ops.length === 0) return;
    let own = this.segments[this.segments.length - 1];
    if (!own?.own) {
      own = { path: this.ownPath, offset: 0, pending: 0, own: true };
      this.segments.push(own);
    }
    if (this.fd === null) this.fd = openSync(this.ownPath, 'a');
    const text = ops.map((op) => JSON.stringify(op)).join('\n') + '\n';
    writeSync(this.fd, text);
    fdatasyncSync(this.fd);
    own.pending += ops.length;
    this.total += ops.length;
    this.onSize(this.total);
  }

  /** The next ops in spool order, or null when the spool is empty. */
  read(max: number): SpoolBatch | null {
    for (;;) {
      const seg = this.segments[0];
      if (!seg) return null;
      const { lines, torn } = this.readLines(seg, max);
      if (torn > 0) this.logger.error({ path: seg.path, bytes: torn }, 'billing spool: torn last line (writer died mid-write) skipped');
      const entries = lines.map((l) => {
        try {
          return { size: l.size, op: JSON.parse(l.text) as SinkOp };
        } catch {
          this.logger.error({ path: seg.path, line: l.text.slice(0, 200) }, 'billing spool: unreadable line skipped');
          return { size: l.size, op: null };
        }
      });
      const ops = entries.flatMap((e) => (e.op ? [e.op] : []));
      if (ops.length === 0) {
        if (entries.length === 0 && torn === 0) {
          if (seg.own) return null; // the own file only ever holds whole lines: nothing more yet
          this.finish(seg);
          continue;
        }
        this.advance(seg, entries.length, entries.reduce((a, e) => a + e.size, 0) + torn);
        continue;
      }
      return {
        ops,
        commit: (n) => {
          if (n <= 0) return;
          // Pass over the first n ops and any unreadable lines before them (all, when n is every op).
          let bytes = 0;
          let lineCount = 0;
          let done = 0;
          for (const e of entries) {
            if (done === n && (n < ops.length || e.op)) break;
            bytes += e.size;
            lineCount++;
            if (e.op) done++;
          }
          if (n === ops.length) bytes += torn;
          this.advance(seg, lineCount, bytes);
        },
      };
    }
  }

  /** Closes the file descriptor; what is left stays on disk for the next run (or a sibling's open()). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    LIVE.delete(this.boot);
  }

  /** Up to max whole lines from the segment's offset; `torn` = bytes of a final partial line of a dead writer. */
  private readLines(seg: Segment, max: number): { lines: { text: string; size: number }[]; torn: number } {
    if (!existsSync(seg.path)) return { lines: [], torn: 0 };
    const fd = openSync(seg.path, 'r');
    try {
      const size = fstatSync(fd).size;
      const lines: { text: string; size: number }[] = [];
      let pos = seg.offset;
      while (lines.length < max && pos < size) {
        const buf = Buffer.alloc(Math.min(READ_CHUNK, size - pos));
        const got = readSync(fd, buf, 0, buf.length, pos);
        let start = 0;
        for (let i = 0; i < got && lines.length < max; i++) {
          if (buf[i] !== 0x0a) continue;
          lines.push({ text: buf.subarray(start, i).toString('utf8'), size: i - start + 1 });
          start = i + 1;
        }
        if (start === 0) {
          if (got >= READ_CHUNK) throw new Error(`billing spool: a line longer than ${READ_CHUNK} bytes in ${seg.path}`);
          break; // the rest has no newline
        }
        pos += start;
      }
      const torn = !seg.own && lines.length < max && pos < size ? size - pos : 0;
      return { lines, torn };
    } finally {
      closeSync(fd);
    }
  }

  private advance(seg: Segment, lineCount: number, bytes: number): void {
    seg.offset += bytes;
    seg.pending = Math.max(0, seg.pending - lineCount);
    this.total = Math.max(0, this.total - lineCount);
    this.onSize(this.total);
    if (this.atEnd(seg)) this.finish(seg);
    else this.saveOffset(seg);
  }

  private atEnd(seg: Segment): boolean {
    try {
      return statSync(seg.path).size <= seg.offset;
    } catch {
      return true;
    }
  }

  private finish(seg: Segment): void {
    this.segments.shift();
    if (seg.own) this.close();
    this.unlink(seg.path);
    this.total = Math.max(0, this.total - seg.pending);
    this.onSize(this.total);
  }

  private saveOffset(seg: Segment): void {
    writeFileSync(`${seg.path}.offset`, String(seg.offset));
  }

  private unlink(path: string): void {
    for (const p of [path, `${path}.offset`]) {
      try {
        unlinkSync(p);
      } catch {
        // already gone
      }
    }
  }
}
