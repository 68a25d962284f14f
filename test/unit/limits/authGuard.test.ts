import { describe, expect, it } from 'vitest';
import { AuthFailureGuard, type AuthFailureLimits } from '../../../src/limits/authGuard.js';

function setup(limits: Partial<AuthFailureLimits> = {}, maxSources = 100) {
  const clock = { t: 1_000_000 };
  const blocks: string[] = [];
  const guard = new AuthFailureGuard(
    { perSource: 3, perTrunk: 5, windowMs: 60_000, cooloffMs: 300_000, ...limits },
    { maxSources, now: () => clock.t, onBlock: (scope) => blocks.push(scope) },
  );
  return { clock, guard, blocks };
}

describe('AuthFailureGuard', () => {
  it('blocks a source at its Nth failure inside the window, for the cool-off', () => {
    const { clock, guard, blocks } = setup();
    expect(guard.recordFailure('a', 't1')).toEqual({ blocked: false });
    expect(guard.recordFailure('a', 't1')).toEqual({ blocked: false });
    expect(guard.blockedUntil('a')).toBeNull();
    expect(guard.recordFailure('a', 't1')).toEqual({ blocked: true, scope: 'source', until: clock.t + 300_000 });
    expect(blocks).toEqual(['source']);
    expect(guard.blockedUntil('a')).toBe(clock.t + 300_000);
    expect(guard.blockedUntil('b')).toBeNull();
    expect(guard.blockedSources).toBe(1);
    clock.t += 300_000;
    expect(guard.blockedUntil('a')).toBeNull();
    expect(guard.blockedSources).toBe(0);
  });

  it('forgets failures older than the window', () => {
    const { clock, guard } = setup();
    guard.recordFailure('a', 't1');
    guard.recordFailure('a', 't1');
    clock.t += 60_001;
    expect(guard.recordFailure('a', 't1')).toEqual({ blocked: false });
    expect(guard.recordFailure('a', 't1')).toEqual({ blocked: false });
    expect(guard.recordFailure('a', 't1').blocked).toBe(true);
  });

  it('a correct answer forgives the source its failures so far', () => {
    const { guard } = setup();
    guard.recordFailure('a', 't1');
    guard.recordFailure('a', 't1');
    guard.recordSuccess('a');
    expect(guard.recordFailure('a', 't1').blocked).toBe(false);
    expect(guard.recordFailure('a', 't1').blocked).toBe(false);
  });

  it('past the trunk limit, each failing source is blocked at its first failure; other trunks are not affected', () => {
    const { guard, blocks } = setup({ perSource: 10, perTrunk: 3 });
    expect(['s1', 's2'].map((s) => guard.recordFailure(s, 't1').blocked)).toEqual([false, false]);
    expect(guard.recordFailure('s3', 't1')).toMatchObject({ blocked: true, scope: 'trunk' });
    expect(guard.recordFailure('s4', 't1')).toMatchObject({ blocked: true, scope: 'trunk' });
    expect(guard.recordFailure('s5', 't2').blocked).toBe(false);
    expect(blocks).toEqual(['trunk', 'trunk']);
    // s1 and s2 were never blocked: a source that does not fail again is left alone
    expect(guard.blockedUntil('s1')).toBeNull();
  });

  it('remembers at most maxSources sources, the least recently seen forgotten first', () => {
    const { guard } = setup({ perSource: 2 }, 3);
    guard.recordFailure('a', 't');
    guard.recordFailure('a', 't'); // a blocked
    for (const s of ['b', 'c', 'd']) guard.recordFailure(s, 'other-' + s);
    expect(guard.blockedUntil('a')).toBeNull(); // forgotten: bounded memory wins over a perfect memory
  });

  it('per_source 0 turns the guard off', () => {
    const { guard } = setup({ perSource: 0, perTrunk: 1 });
    expect(Array.from({ length: 20 }, () => guard.recordFailure('a', 't').blocked).some(Boolean)).toBe(false);
    expect(guard.blockedUntil('a')).toBeNull();
    expect(guard.enabled).toBe(false);
  });
});
