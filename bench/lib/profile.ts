/**
 * Where a V8 CPU profile (node --cpu-prof) spent its time: self time by function and by module
 * (a package in node_modules, a file of src/, node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

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
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const modules = new Map<string, number>();
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
    const fn = `${frame.functionName || '(anonymous)'} ${mod}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs, byModule: top(modules, busyMs, n), byFunction: top(functions, busyMs, n) };
}

export function summarizeProfileFile(path: string, n = 25): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, n);
}

export function formatProfile(s: ProfileSummary, n = 15): string {
  const lines = [`busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s profiled`, '  self time by module:'];
  for (const e of s.byModule.slice(0, n)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${(e.ms / 1000).toFixed(2).padStart(7)} s  ${e.name}`);
  lines.push('  self time by function:');
  for (const e of s.byFunction.slice(0, n)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${(e.ms / 1000).toFixed(2).padStart(7)} s  ${e.name}`);
  return lines.join('\n');
}
