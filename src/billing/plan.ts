import type { CallInfo } from '../calls/lifecycle.js';

/**
 * How a call is charged.
 * - `first_minute`: managed telephony (numbers bought through the platform, personal numbers
 *   routed through the platform's carrier); `minimum_s` is the first-minute charge (60 s).
 * - `actual`: BYOC trunks, imported Twilio/Telnyx numbers, browser test calls; the duration
 *   rounded up to `increment_s` (`minimum_s` is at most one increment).
 * `id` is the plan written out, e.g. "first_minute_60/1" or "actual_1/1".
 */
export interface BillingPlan {
  readonly id: string;
  readonly rule: 'first_minute' | 'actual';
  readonly minimum_s: number;
  readonly increment_s: number;
}

/** The plan keys of the `billing.plans` config section, one per way a call can be billed. */
export const PLAN_KINDS = ['managed', 'personal', 'imported', 'byoc', 'browser_test'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

/** Which rule each plan key follows: fixed by the product, only the increments are configurable. */
export const PLAN_RULES: Readonly<Record<PlanKind, BillingPlan['rule']>> = {
  managed: 'first_minute',
  personal: 'first_minute',
  imported: 'actual',
  byoc: 'actual',
  browser_test: 'actual',
};

/** "M/N" increments: minimum M seconds, then N-second increments (60/1, 60/6, 1/1). */
export interface Increments {
  readonly minimum_s: number;
  readonly increment_s: number;
}

export type PlanTable = Readonly<Record<PlanKind, Increments>>;

export function parseIncrements(text: string): Increments | null {
  const m = /^\s*(\d{1,5})\s*\/\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return null;
  const minimum_s = Number(m[1]);
  const increment_s = Number(m[2]);
  return increment_s >= 1 ? { minimum_s, increment_s } : null;
}

export function planFor(kind: PlanKind, table: PlanTable): BillingPlan {
  const { minimum_s, increment_s } = table[kind];
  const rule = PLAN_RULES[kind];
  return { id: `${rule}_${minimum_s}/${increment_s}`, rule, minimum_s, increment_s };
}

/**
 * Which plan key a call is billed under.
 * - Browser test calls (marked by the platform through a trusted header): `browser_test`.
 * - Outbound over a BYOC trunk: `byoc`, whatever the caller ID (the platform's carrier is not used).
 * - Otherwise by the number's telephony kind: `managed` numbers always; `personal` numbers only
 *   when the trunk is the platform's own carrier (trunk kind managed), else `byoc`; `imported` and
 *   `byoc` numbers by their kind.
 * - No number known: the trunk decides (managed trunk -> `managed`, else `byoc`).
 */
export function planKindOf(call: Pick<CallInfo, 'direction' | 'telephony' | 'trunkKind' | 'browserTest'>): PlanKind {
  if (call.browserTest) return 'browser_test';
  if (call.direction === 'outbound' && call.trunkKind === 'byoc') return 'byoc';
  switch (call.telephony) {
    case 'managed':
      return 'managed';
    case 'personal':
      return call.trunkKind === 'managed' ? 'personal' : 'byoc';
    case 'imported':
      return 'imported';
    case 'byoc':
      return 'byoc';
    case null:
      return call.trunkKind === 'managed' ? 'managed' : 'byoc';
    default: {
      const never: never = call.telephony;
      throw new Error(`unknown telephony kind ${String(never)}`);
    }
  }
}

/**
 * Billable whole seconds of an answered call of `durationMs` (answer to end) under an "M/N" plan:
 * M seconds at least, then N-second increments, each started increment counted in full:
 *
 *   d <= M  ->  M
 *   d >  M  ->  M + ceil((d - M) / N) * N
 *
 * Rounding is always up, on whole milliseconds (a fractional ms counts as a full one), so the
 * arithmetic is exact integers: 59.4 s -> 60 s on 1/1; 60.001 s -> 61 s on 60/1 and 66 s on 60/6;
 * exactly 60 s -> 60 s. A 0 ms answered call is billed M (60 on 60/1, 1 on 1/1, 0 on 0/1).
 * Negative or non-finite durations count as 0 ms. Unanswered calls never reach this function:
 * they are not billed at all.
 */
export function billableSeconds(durationMs: number, plan: Increments): number {
  const ms = Number.isFinite(durationMs) && durationMs > 0 ? Math.ceil(durationMs) : 0;
  const minimumMs = plan.minimum_s * 1000;
  if (ms <= minimumMs) return plan.minimum_s;
  const incrementMs = plan.increment_s * 1000;
  return plan.minimum_s + Math.ceil((ms - minimumMs) / incrementMs) * plan.increment_s;
}
