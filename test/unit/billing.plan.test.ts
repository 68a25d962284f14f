import { describe, expect, it } from 'vitest';
import { billableSeconds, planFor, planKindOf, type PlanKind, type PlanTable } from '../../src/billing/plan.js';
import type { CallInfo } from '../../src/calls/lifecycle.js';

const p = (minimum_s: number, increment_s: number) => ({ minimum_s, increment_s });

describe('billableSeconds', () => {
  it.each([
    // first minute, then per second
    ['60/1', p(60, 1), 0, 60],
    ['60/1', p(60, 1), 1, 60],
    ['60/1', p(60, 1), 3_000, 60],
    ['60/1', p(60, 1), 59_400, 60],
    ['60/1', p(60, 1), 60_000, 60],
    ['60/1', p(60, 1), 60_001, 61],
    ['60/1', p(60, 1), 61_000, 61],
    ['60/1', p(60, 1), 61_000.2, 62],
    ['60/1', p(60, 1), 3_600_000, 3600],
    ['60/1', p(60, 1), 4 * 3_600_000 + 1, 4 * 3600 + 1],
    // first minute, then 6-second increments
    ['60/6', p(60, 6), 0, 60],
    ['60/6', p(60, 6), 59_400, 60],
    ['60/6', p(60, 6), 60_000, 60],
    ['60/6', p(60, 6), 60_001, 66],
    ['60/6', p(60, 6), 66_000, 66],
    ['60/6', p(60, 6), 66_001, 72],
    ['60/6', p(60, 6), 3_600_000, 3600],
    ['60/6', p(60, 6), 3_600_500, 3606],
    // a minimum that is no multiple of the increment: increments count from the minimum on
    ['30/7', p(30, 7), 30_001, 37],
    ['30/7', p(30, 7), 37_000, 37],
    ['30/7', p(30, 7), 37_001, 44],
    // actual duration, per second
    ['1/1', p(1, 1), 0, 1],
    ['1/1', p(1, 1), 999, 1],
    ['1/1', p(1, 1), 1_000, 1],
    ['1/1', p(1, 1), 3_000, 3],
    ['1/1', p(1, 1), 59_400, 60],
    ['1/1', p(1, 1), 60_000, 60],
    ['1/1', p(1, 1), 60_001, 61],
    ['1/1', p(1, 1), 86_400_000, 86_400],
    // actual duration, 6-second increments; 0/1 bills a 0 ms call nothing
    ['6/6', p(6, 6), 6_001, 12],
    ['0/1', p(0, 1), 0, 0],
    ['0/1', p(0, 1), 1, 1],
  ])('%s: %d ms -> %d s', (_name, plan, ms, expected) => {
    expect(billableSeconds(ms, plan)).toBe(expected);
  });

  it.each([-5, Number.NaN, Number.NEGATIVE_INFINITY])('treats %d ms as 0 ms', (ms) => {
    expect(billableSeconds(ms, p(60, 1))).toBe(60);
    expect(billableSeconds(ms, p(0, 1))).toBe(0);
  });

  it('returns whole seconds and never less than the actual duration or the minimum', () => {
    for (const plan of [p(60, 1), p(60, 6), p(1, 1), p(30, 7)]) {
      for (let ms = 0; ms <= 200_000; ms += 997) {
        const s = billableSeconds(ms, plan);
        expect(Number.isInteger(s)).toBe(true);
        expect(s * 1000).toBeGreaterThanOrEqual(ms);
        expect(s).toBeGreaterThanOrEqual(plan.minimum_s);
        // never more than one increment beyond the larger of duration and minimum
        expect(s * 1000).toBeLessThan(Math.max(ms, plan.minimum_s * 1000) + plan.increment_s * 1000 + 1);
      }
    }
  });
});

type Case = Pick<CallInfo, 'direction' | 'telephony' | 'trunkKind' | 'browserTest'>;
const call = (direction: Case['direction'], telephony: Case['telephony'], trunkKind: Case['trunkKind'], browserTest = false): Case => ({
  direction,
  telephony,
  trunkKind,
  browserTest,
});

describe('planKindOf', () => {
  it.each<[string, Case, PlanKind]>([
    ['inbound managed number', call('inbound', 'managed', 'managed'), 'managed'],
    ['inbound imported number', call('inbound', 'imported', 'managed'), 'imported'],
    ['inbound imported number on a byoc trunk', call('inbound', 'imported', 'byoc'), 'imported'],
    ['inbound byoc number', call('inbound', 'byoc', 'byoc'), 'byoc'],
    ['inbound managed number on a byoc trunk', call('inbound', 'managed', 'byoc'), 'managed'],
    ['inbound personal number via the platform carrier', call('inbound', 'personal', 'managed'), 'personal'],
    ['inbound personal number via a byoc trunk', call('inbound', 'personal', 'byoc'), 'byoc'],
    ['inbound, no number, platform trunk', call('inbound', null, 'managed'), 'managed'],
    ['inbound, no number, byoc trunk', call('inbound', null, 'byoc'), 'byoc'],
    ['outbound managed number via the platform carrier', call('outbound', 'managed', 'managed'), 'managed'],
    ['outbound managed number via a byoc trunk', call('outbound', 'managed', 'byoc'), 'byoc'],
    ['outbound personal number via the platform carrier', call('outbound', 'personal', 'managed'), 'personal'],
    ['outbound personal number via a byoc trunk', call('outbound', 'personal', 'byoc'), 'byoc'],
    ['outbound imported number via the platform carrier', call('outbound', 'imported', 'managed'), 'imported'],
    ['outbound imported number via a byoc trunk', call('outbound', 'imported', 'byoc'), 'byoc'],
    ['outbound byoc number', call('outbound', 'byoc', 'byoc'), 'byoc'],
    ['outbound, no number, platform trunk', call('outbound', null, 'managed'), 'managed'],
    ['browser test on a managed number', call('inbound', 'managed', 'managed', true), 'browser_test'],
    ['browser test outbound personal', call('outbound', 'personal', 'managed', true), 'browser_test'],
  ])('%s -> %s', (_name, c, expected) => {
    expect(planKindOf(c)).toBe(expected);
  });
});

describe('planFor', () => {
  const table: PlanTable = {
    managed: p(60, 6),
    personal: p(60, 1),
    imported: p(1, 1),
    byoc: p(6, 6),
    browser_test: p(1, 1),
  };

  it.each<[PlanKind, string, string]>([
    ['managed', 'first_minute', 'first_minute_60/6'],
    ['personal', 'first_minute', 'first_minute_60/1'],
    ['imported', 'actual', 'actual_1/1'],
    ['byoc', 'actual', 'actual_6/6'],
    ['browser_test', 'actual', 'actual_1/1'],
  ])('%s follows the %s rule (%s)', (kind, rule, id) => {
    expect(planFor(kind, table)).toEqual({ id, rule, ...table[kind] });
  });
});
