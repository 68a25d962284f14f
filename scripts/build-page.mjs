#!/usr/bin/env node
// Builds the test-call page served by the admin API at GET /test-call: the page's script with its
// SIP stack (JsSIP) bundled by esbuild, and the HTML beside it, into dist/public (or the directory
// given). `npm run build` runs it after tsc; the e2e tests run it themselves.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'browser', 'page');
export const DEFAULT_PAGE_DIR = join(root, 'dist', 'public');

/** Writes test-call.html and test-call.js into outDir; resolves with their paths. */
export async function buildTestCallPage(outDir = DEFAULT_PAGE_DIR) {
  await mkdir(outDir, { recursive: true });
  const js = join(outDir, 'test-call.js');
  const html = join(outDir, 'test-call.html');
  await build({
    entryPoints: [join(source, 'app.js')],
    outfile: js,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await copyFile(join(source, 'test-call.html'), html);
  return { html, js };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = await buildTestCallPage(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_PAGE_DIR);
  process.stdout.write(`test-call page: ${out.html}, ${out.js}\n`);
}
