import { describe, expect, it } from 'vitest';
import { destinationFailure } from '../../../src/calls/apiCallDial.js';
import { applyApiCallEvent, API_CALL_STATES, isTerminal, queuedRecord, type ApiCallEvent, type ApiCallRecord, type ApiCallState } from '../../../src/calls/apiCallState.js';
import { endReasonOf, requestFingerprint } from '../../../src/calls/apiCallRequest.js';
import type { FailureKind } from '../../../src/calls/classify.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const base = (): ApiCallRecord =>
  queuedRecord(
    { id: 'call_1', workspace_id: 'ws_1', agent_id: 'agt_1', from_number: '+15550100001', number_id: 'n1', to_number: '+442071234567', trunk_id: 't1', metadata: {}, status_callback: null, instance_id: 'i1' },
    T0,
  );

/** Plays events from a fresh record, one second apart; null where an event did not apply. */
function play(events: ApiCallEvent[]): (ApiCallRecord | null)[] {
  let record = base();
  return events.map((event, i) => {
    const next = applyApiCallEvent(record, event, T0 + (i + 1) * 1000);
    if (next) record = next;
    return next;
  });
}

const ended = (reason: Extract<ApiCallEvent, { kind: 'ended' }>['reason'], sipStatus?: number): ApiCallEvent => ({ kind: 'ended', reason, ...(sipStatus ? { sipStatus } : {}) });

describe('API call state machine', () => {
  it('goes queued -> dialing -> ringing -> answered -> completed with a timestamp each', () => {
    const steps = play([{ kind: 'dialing' }, { kind: 'ringing' }, { kind: 'answered' }, { kind: 'agent_answered' }, ended('destination_hangup')]);
    expect(steps.map((s) => s?.state)).toEqual(['dialing', 'ringing', 'answered', 'answered', 'completed']);
    const last = steps[4]!;
    expect(last).toMatchObject({
      created_at: '2025-01-01T00:00:00.000Z',
      dialing_at: '2025-01-01T00:00:01.000Z',
      ringing_at: '2025-01-01T00:00:02.000Z',
      answered_at: '2025-01-01T00:00:03.000Z',
      agent_answered_at: '2025-01-01T00:00:04.000Z',
      ended_at: '2025-01-01T00:00:05.000Z',
      sip_status: 200,
      agent_sip_status: 200,
      end_reason: 'destination_hangup',
      duration_s: 2,
    });
  });

  it('a call never answered ends failed with the SIP status it got, duration 0', () => {
    const [, , last] = play([{ kind: 'dialing' }, { kind: 'ringing' }, ended('busy', 486)]);
    expect(last).toMatchObject({ state: 'failed', sip_status: 486, end_reason: 'busy', duration_s: 0, answered_at: null });
  });

  it('an answered call whose agent never answered ends completed (it was billed), with the agent status', () => {
    const [, , last] = play([{ kind: 'dialing' }, { kind: 'answered' }, { kind: 'ended', reason: 'agent_no_answer', agentSipStatus: 480 }]);
    expect(last).toMatchObject({ state: 'completed', sip_status: 200, agent_sip_status: 480, end_reason: 'agent_no_answer', agent_answered_at: null });
  });

  it('can be cancelled while queued', () => {
    expect(play([ended('cancelled', 487)])[0]).toMatchObject({ state: 'failed', end_reason: 'cancelled', sip_status: 487 });
  });

  it.each<[string, ApiCallEvent[], ApiCallEvent]>([
    ['ringing after the answer', [{ kind: 'dialing' }, { kind: 'answered' }], { kind: 'ringing' }],
    ['a second answer', [{ kind: 'dialing' }, { kind: 'answered' }], { kind: 'answered' }],
    ['answered before dialing', [], { kind: 'answered' }],
    ['ringing before dialing', [], { kind: 'ringing' }],
    ['the agent answering an unanswered call', [{ kind: 'dialing' }], { kind: 'agent_answered' }],
    ['the agent answering twice', [{ kind: 'dialing' }, { kind: 'answered' }, { kind: 'agent_answered' }], { kind: 'agent_answered' }],
    ['a second end', [{ kind: 'dialing' }, ended('busy', 486)], ended('error')],
    ['dialing after the end', [ended('cancelled')], { kind: 'dialing' }],
  ])('ignores %s (nothing changes, nothing is reported)', (_what, before, event) => {
    const results = play([...before, event]);
    expect(results[results.length - 1]).toBeNull();
  });

  it('the end of an answered call keeps the 200 even when a status comes with the end', () => {
    const [, , last] = play([{ kind: 'dialing' }, { kind: 'answered' }, ended('destination_hangup', 487)]);
    expect(last?.sip_status).toBe(200);
  });

  it('exactly completed and failed are terminal', () => {
    expect(API_CALL_STATES.filter(isTerminal)).toEqual<ApiCallState[]>(['completed', 'failed']);
  });
});

describe('destination failures', () => {
  it.each<[FailureKind, string]>([
    [{ kind: 'status', status: 486 }, 'busy'],
    [{ kind: 'status', status: 600 }, 'busy'],
    [{ kind: 'status', status: 603 }, 'declined'],
    [{ kind: 'status', status: 480 }, 'no_answer'],
    [{ kind: 'timeout' }, 'no_answer'],
    [{ kind: 'status', status: 503 }, 'carrier_failed'],
    [{ kind: 'status', status: 404 }, 'carrier_failed'],
    [{ kind: 'unreachable' }, 'unreachable'],
    [{ kind: 'cancelled' }, 'cancelled'],
    [{ kind: 'internal' }, 'error'],
  ])('%j -> %s', (failure, reason) => {
    expect(destinationFailure(failure)).toBe(reason);
  });
});

describe('end causes of answered calls', () => {
  it.each([
    ['caller_hangup', 'agent_hangup'],
    ['callee_hangup', 'destination_hangup'],
    ['max_duration', 'max_duration'],
    ['shutdown', 'shutdown'],
    ['failed', 'error'],
  ] as const)('%s -> %s', (cause, reason) => {
    expect(endReasonOf(cause)).toBe(reason);
  });
});

describe('request fingerprint (Idempotency-Key reuse)', () => {
  const req = { workspace_id: 'ws_1', from_number: '+15550100001', to_number: '+442071234567', agent_id: 'agt_1', metadata: { a: '1', b: '2' } };
  it('is the same whatever the order of metadata keys', () => {
    expect(requestFingerprint(req)).toBe(requestFingerprint({ ...req, metadata: { b: '2', a: '1' } }));
  });
  it.each([
    ['to_number', { to_number: '+442071234568' }],
    ['metadata', { metadata: { a: '1', b: '3' } }],
    ['ring_timeout_s', { ring_timeout_s: 30 }],
    ['status_callback', { status_callback: 'http://x/' }],
  ])('changes with %s', (_field, change) => {
    expect(requestFingerprint({ ...req, ...change })).not.toBe(requestFingerprint(req));
  });
});
