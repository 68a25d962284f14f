import { describe, expect, it } from 'vitest';
import { SourceFloodGuard } from '../../../src/limits/floodGuard.js';
import { identifyTrunk } from '../../../src/pipeline/steps/source.js';
import { buildTrunkTable } from '../../../src/stores/routeStore.js';
import { request, trunkRecord } from '../support/fakes.js';

describe('SourceFloodGuard', () => {
  it('lets a source send its rate, then refuses until tokens refill', () => {
    let now = 0;
    const guard = new SourceFloodGuard(5, 100, () => now);
    const burst = Array.from({ length: 8 }, () => guard.allow('198.51.100.1'));
    expect(burst).toEqual([true, true, true, true, true, false, false, false]);
    expect(guard.allow('198.51.100.2')).toBe(true); // other sources have their own bucket
    now += 200; // one token at 5/s
    expect([guard.allow('198.51.100.1'), guard.allow('198.51.100.1')]).toEqual([true, false]);
  });

  it('remembers at most maxSources sources, forgetting the least recently seen', () => {
    const guard = new SourceFloodGuard(1, 3, () => 0);
    for (const ip of ['a', 'b', 'c', 'd']) guard.allow(ip);
    expect(guard.trackedSources).toBe(3);
    expect(guard.allow('a')).toBe(true); // 'a' was forgotten, so it starts with a full bucket
    expect(guard.allow('d')).toBe(false);
  });

  it('is off at rate 0', () => {
    const guard = new SourceFloodGuard(0);
    expect(Array.from({ length: 100 }, () => guard.allow('x')).every(Boolean)).toBe(true);
  });
});

describe('identifyTrunk with a flood guard', () => {
  const table = buildTrunkTable([trunkRecord({ id: 't', inbound: { allowed_cidrs: ['192.0.2.0/24'] } })]);

  it('drops an unknown source over the rate without an answer, and never limits a trunk', () => {
    const guard = new SourceFloodGuard(2, 100, () => 0);
    const unknown = request({ sourceAddress: '203.0.113.9' });
    const kinds = Array.from({ length: 4 }, () => identifyTrunk(unknown, table, false, guard).kind);
    expect(kinds).toEqual(['reject', 'reject', 'drop', 'drop']);
    expect(identifyTrunk(unknown, table, false, guard)).toMatchObject({ kind: 'drop', reason: 'source_flood' });
    const trunkSource = request({ sourceAddress: '192.0.2.7' });
    expect(Array.from({ length: 10 }, () => identifyTrunk(trunkSource, table, false, guard).kind).every((k) => k === 'continue')).toBe(true);
  });
});
