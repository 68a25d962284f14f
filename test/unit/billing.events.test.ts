import { describe, expect, it } from 'vitest';
import {
  billingEventSchema,
  callAnswered,
  callEnded,
  callEndedByRecovery,
  callRejected,
  callStarted,
} from '../../src/billing/events.js';
import { planFor, type PlanTable } from '../../src/billing/plan.js';
import type { CallInfo } from '../../src/calls/lifecycle.js';

const table: PlanTable = {
  managed: { minimum_s: 60, increment_s: 1 },
  personal: { minimum_s: 60, increment_s: 1 },
  imported: { minimum_s: 1, increment_s: 1 },
  byoc: { minimum_s: 1, increment_s: 1 },
  browser_test: { minimum_s: 1, increment_s: 1 },
};
const managed = planFor('managed', table);
const byoc = planFor('byoc', table);

const T0 = 1_700_000_000_000;
const info: CallInfo = {
  callId: 'abc@carrier',
  direction: 'inbound',
  workspaceId: 'ws_1',
  trunkId: 'trk_1',
  trunkKind: 'managed',
  numberId: 'num_1',
  telephony: 'managed',
  agentId: 'agt_1',
  from: '+15550000001',
  to: '+15550001001',
  browserTest: false,
  startedAt: T0,
};

describe('billing event builders', () => {
  it('builds events that pass the schema, with idempotency key call id + type', () => {
    const events = [
      callStarted(info, managed, 'edge-1'),
      callAnswered(info, managed, 'edge-1', T0 + 2000),
      callEnded(info, managed, 'edge-1', { endedAt: T0 + 5000, durationMs: 3000, cause: 'caller_hangup', answered: true }),
      callRejected(
        { callId: 'x@y', direction: 'inbound', reason: 'number_unknown', status: 404, trunkId: 'trk_1', workspaceId: null, from: 'a', to: 'b', at: T0 },
        'edge-1',
      ),
    ];
    for (const e of events) {
      expect(billingEventSchema.parse(e)).toEqual(e);
      expect(e.idempotency_key).toBe(`${e.call_id}:${e.type}`);
      expect(e.event_id).toBe(e.idempotency_key);
      expect(e.schema_version).toBe(2);
    }
  });

  it('answered carries the first-minute charge; ended carries the total', () => {
    expect(callAnswered(info, managed, 'edge-1', T0 + 2000)).toMatchObject({ answered_at: T0 + 2000, billable_s: 60, plan: { id: 'first_minute_60/1' } });
    const ended = callEnded(info, managed, 'edge-1', { endedAt: T0 + 125_500, durationMs: 123_500, cause: 'callee_hangup', answered: true });
    expect(ended).toMatchObject({ status: 'answered', answered_at: T0 + 2000, ended_at: T0 + 125_500, duration_ms: 123_500, billable_s: 124, sip_status: null });
  });

  it('a BYOC call of 3 s is billed 3 s', () => {
    const call = { ...info, trunkKind: 'byoc' as const, telephony: 'byoc' as const };
    expect(callAnswered(call, byoc, 'edge-1', T0).billable_s).toBe(1);
    expect(callEnded(call, byoc, 'edge-1', { endedAt: T0 + 3000, durationMs: 3000, cause: 'caller_hangup', answered: true }).billable_s).toBe(3);
  });

  it('an unanswered or cancelled call is never charged', () => {
    const ended = callEnded(info, managed, 'edge-1', { endedAt: T0 + 9000, durationMs: 0, cause: 'cancelled', answered: false, status: 487 });
    expect(ended).toMatchObject({ status: 'unanswered', billable_s: 0, answered_at: null, duration_ms: 0, sip_status: 487, end_cause: 'cancelled' });
    expect(billingEventSchema.safeParse(ended).success).toBe(true);
  });

  it('recovery closes with the duration up to the last heartbeat, never before the answer', () => {
    const answered = callAnswered(info, managed, 'edge-1', T0 + 1000);
    const late = callEndedByRecovery(answered, T0 + 91_000, 'edge-2');
    expect(late).toMatchObject({
      type: 'call.ended',
      idempotency_key: 'abc@carrier:call.ended',
      end_cause: 'edge_restart',
      instance_id: 'edge-1',
      recovered_by: 'edge-2',
      ended_at: T0 + 91_000,
      duration_ms: 90_000,
      billable_s: 90,
    });
    expect(billingEventSchema.parse(late)).toEqual(late);
    const noBeat = callEndedByRecovery(answered, null, 'edge-2');
    expect(noBeat).toMatchObject({ duration_ms: 0, billable_s: 60, ended_at: T0 + 1000 });
    // A heartbeat older than the answer (the call was answered after the last beat).
    expect(callEndedByRecovery(answered, T0, 'edge-2')).toMatchObject({ duration_ms: 0, billable_s: 60 });
  });
});

describe('billingEventSchema', () => {
  const good = callEnded(info, managed, 'edge-1', { endedAt: T0 + 5000, durationMs: 3000, cause: 'caller_hangup', answered: true });

  it.each<[string, Record<string, unknown>, string]>([
    ['a foreign idempotency key', { idempotency_key: 'other:call.ended' }, 'idempotency_key'],
    ['event_id unlike the key', { event_id: 'x' }, 'event_id'],
    ['another schema version', { schema_version: 1 }, 'schema_version'],
    ['an unknown end cause', { end_cause: 'meteor' }, 'end_cause'],
    ['fractional seconds', { billable_s: 60.5 }, 'billable_s'],
    ['less than the plan minimum', { billable_s: 3 }, 'billable_s'],
    ['an unanswered call with a charge', { status: 'unanswered', answered_at: null, duration_ms: 0, billable_s: 60 }, 'billable_s'],
    ['an answered call without answer time', { answered_at: null }, 'answered_at'],
    ['a timestamp in seconds with fraction', { occurred_at: 1.5 }, 'occurred_at'],
  ])('refuses %s', (_name, patch, path) => {
    const result = billingEventSchema.safeParse({ ...good, ...patch });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('refuses an unknown type', () => {
    expect(billingEventSchema.safeParse({ ...good, type: 'call.transferred' }).success).toBe(false);
  });
});
