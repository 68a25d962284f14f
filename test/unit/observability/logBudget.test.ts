import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../../src/observability/logBudget.js';

describe('LogBudget', () => {
  it('lets perSecond lines of a kind through per second and says how many were left out before the next', () => {
    const clock = { t: 0 };
    const left: string[] = [];
    const budget = new LogBudget(2, (kind) => left.push(kind), () => clock.t);
    expect([budget.take('a'), budget.take('a'), budget.take('a'), budget.take('a')]).toEqual([{ suppressed: 0 }, { suppressed: 0 }, null, null]);
    expect(budget.take('b')).toEqual({ suppressed: 0 }); // kinds have their own budget
    clock.t = 999;
    expect(budget.take('a')).toBeNull();
    clock.t = 1000;
    expect(budget.take('a')).toEqual({ suppressed: 3 });
    expect(budget.take('a')).toEqual({ suppressed: 0 });
    expect(left).toEqual(['a', 'a', 'a']);
  });

  it('0 lines per second logs nothing and counts everything', () => {
    let n = 0;
    const budget = new LogBudget(0, () => n++);
    expect(Array.from({ length: 10 }, () => budget.take('x')).every((x) => x === null)).toBe(true);
    expect(n).toBe(10);
  });
});
