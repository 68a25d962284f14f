import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACT_PATHS } from '../../../src/observability/logger.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

/** { a: { b: value } } for the path "a.b" (and 'headers["proxy-authorization"]'). */
function objectAt(path: string, value: string): Record<string, unknown> {
  const parts = path.match(/[^.[\]"]+/g)!;
  return parts.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

describe('logger redaction', () => {
  it.each(REDACT_PATHS)('%s never reaches a log line', async (path) => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    logger.info({ ...objectAt(path, 'S3cret-value-42'), callId: 'c1' }, 'something happened');
    logger.child(objectAt(path, 'S3cret-value-43')).info('from a child');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('S3cret-value');
    expect(lines.join('\n')).toContain('[redacted]');
    expect(JSON.parse(lines[0]!)).toMatchObject({ callId: 'c1', msg: 'something happened' });
  });

  it('uses no wildcard paths (each one costs every log line ~20 us)', () => {
    expect(REDACT_PATHS.filter((p) => p.includes('*'))).toEqual([]);
  });
});

describe('log latency', () => {
  it('a single line reaches the file without waiting for the 4 KB buffer to fill', async () => {
    const { mkdtempSync, readFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'sip-edge-log-')), 'edge.log');
    const logger = createLogger('info', { file });
    logger.info({ callId: 'c-latency' }, 'call answered');
    // without the periodic flush this line stays in memory until 4 KB of lines have gathered
    await expect.poll(() => (existsSync(file) ? readFileSync(file, 'utf8') : ''), { timeout: 5000, interval: 50 }).toContain('c-latency');
  });
});
