/**
 * Preloaded into the processes under test (node --expose-gc --import bench/lib/memoryProbe.mjs) so
 * the memory figure compares live memory, not garbage: on SIGUSR2 it runs a full GC and writes
 * process.memoryUsage() as JSON to $BENCH_MEMORY_FILE. Plain JavaScript on purpose: it must load
 * into an edge running from dist/ without a TypeScript loader. Nothing else changes in the process.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MEMORY_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    writeFileSync(file, JSON.stringify({ at: Date.now(), gc: typeof globalThis.gc === 'function', ...process.memoryUsage() }));
  });
}
