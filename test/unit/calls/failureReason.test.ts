import { describe, expect, it } from 'vitest';
import { classifyError, failureReason, statusForCaller, type CalledParty, type FailureKind } from '../../../src/calls/classify.js';
import { rejectSpec, type RejectReason } from '../../../src/pipeline/reasons.js';

describe('failureReason: every final failure the edge sends carries a stable reason', () => {
  it.each<[string, FailureKind, CalledParty, RejectReason, number]>([
    ['agent unreachable', { kind: 'unreachable' }, 'agent', 'agent_unreachable', 503],
    ['agent rang out', { kind: 'timeout' }, 'agent', 'agent_timeout', 480],
    ['agent 408', { kind: 'status', status: 408 }, 'agent', 'agent_timeout', 408],
    ['agent busy', { kind: 'status', status: 486 }, 'agent', 'agent_busy', 486],
    ['agent busy everywhere', { kind: 'status', status: 600 }, 'agent', 'agent_busy', 600],
    ['agent declined', { kind: 'status', status: 603 }, 'agent', 'agent_rejected', 603],
    ['agent 404', { kind: 'status', status: 404 }, 'agent', 'agent_rejected', 404],
    ['agent 503', { kind: 'status', status: 503 }, 'agent', 'agent_unavailable', 503],
    ['voicemail failed', { kind: 'status', status: 500 }, 'voicemail', 'voicemail_failed', 500],
    ['voicemail unreachable', { kind: 'unreachable' }, 'voicemail', 'voicemail_failed', 503],
    ['carrier busy', { kind: 'status', status: 486 }, 'carrier', 'carrier_busy', 486],
    ['carrier unreachable', { kind: 'unreachable' }, 'carrier', 'carrier_unreachable', 503],
    ['carrier 404', { kind: 'status', status: 404 }, 'carrier', 'carrier_rejected', 404],
    ['answer too large', { kind: 'too_large' }, 'agent', 'agent_answer_too_large', 500],
    ['internal', { kind: 'internal' }, 'agent', 'edge_error', 500],
  ])('%s', (_what, failure, party, reason, status) => {
    expect(failureReason(failure, party)).toBe(reason);
    expect(statusForCaller(failure)).toBe(status);
    expect(rejectSpec(reason).phrase).not.toBe('');
  });

  it('a 503 the edge makes up tells the caller when to retry', () => {
    expect(rejectSpec(failureReason({ kind: 'unreachable' }, 'agent')).retryAfter).toBe(true);
  });
});

describe('classifyError', () => {
  const sipError = (status: number, sourceAddress: string) => Object.assign(new Error(`${status}`), { status, res: { source_address: sourceAddress } });
  it.each<[string, unknown, { timedOut?: boolean; cancelled?: boolean }, FailureKind]>([
    ['a status from the network', sipError(486, '127.0.0.1'), {}, { kind: 'status', status: 486 }],
    ['a 503 drachtio made up (no peer reached)', sipError(503, ''), {}, { kind: 'unreachable' }],
    ['a 408 drachtio made up (no answer)', sipError(408, ''), {}, { kind: 'timeout' }],
    ['our own ring timeout', sipError(487, '127.0.0.1'), { timedOut: true }, { kind: 'timeout' }],
    ['the caller cancelled', sipError(487, '127.0.0.1'), { cancelled: true }, { kind: 'cancelled' }],
    ['an answer too large', Object.assign(new Error('x'), { name: 'MessageTooLargeError' }), {}, { kind: 'too_large' }],
    ['a Redis timeout', new Error('Command timed out'), {}, { kind: 'redis' }],
    ['a refused connection', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), {}, { kind: 'unreachable' }],
    ['anything else', new Error('boom'), {}, { kind: 'internal' }],
  ])('%s', (_what, err, context, expected) => {
    expect(classifyError(err, context)).toEqual(expected);
  });
});
