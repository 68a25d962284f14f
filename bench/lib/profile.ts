/**
 * Where a V8 CPU profile (node --cpu-prof) spent its time: self time by function and by module
 * (a package in node_modules, a file of src/, node internals, GC, idle).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  /** share of the non-idle time */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly byModule: ProfileEntry[];
  /**
   * Self time charged to the innermost package or src/ file on the stack: Node internals, native
   * code (socket writes) and GC-free builtins count for whoever called them.
   */
  readonly byOwner: ProfileEntry[];
  readonly byFunction: ProfileEntry[];
}

/** A file URL or path -> "pino", "drachtio-srf", "src/pipeline/steps/did.ts", "node:internal", ... */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const src = url.search(/\/(src|dist|bench)\//);
  if (src >= 0) return url.slice(src + 1).replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
  return url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, busyMs: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: busyMs > 0 ? (us / 1000 / busyMs) * 100 : 0 }));
}

export function summarizeProfile(profile: CpuProfile, n = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ownerCache = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached) return cached;
    let owner = '';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      if (frame.url !== '' && !frame.url.startsWith('node:')) {
        owner = moduleOf(frame.url, frame.functionName);
        break;
      }
    }
    const frame = byId.get(id)?.callFrame;
    const result = owner || (frame ? moduleOf(frame.url, frame.functionName) : '?');
    ownerCache.set(id, result);
    return result;
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const modules = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const mod = moduleOf(frame.url, frame.functionName);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const owner = ownerOf(id);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${mod}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs, byModule: top(modules, busyMs, n), byOwner: top(owners, busyMs, n), byFunction: top(functions, busyMs, n) };
}

/** The main thread's profile in a --cpu-prof-dir (thread 0; the others are loader/worker threads). */
export function mainThreadProfile(dir: string): string | null {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const main = files.find((f) => f.split('.')[4] === '0') ?? files[0];
  return main ? join(dir, main) : null;
}

export function summarizeProfileFile(path: string, n = 25): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, n);
}

export function formatProfile(s: ProfileSummary, n = 15): string {
  const lines = [`busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s profiled`, '  self time by module:'];
  for (const e of s.byModule.slice(0, n)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${(e.ms / 1000).toFixed(2).padStart(7)} s  ${e.name}`);
  lines.push('  self time by the package or src/ file on whose behalf it ran (Node internals and socket writes count for their caller):');
  for (const e of s.byOwner.slice(0, n)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${(e.ms / 1000).toFixed(2).padStart(7)} s  ${e.name}`);
  lines.push('  self time by function:');
  for (const e of s.byFunction.slice(0, n)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${(e.ms / 1000).toFixed(2).padStart(7)} s  ${e.name}`);
  return lines.join('\n');
}
