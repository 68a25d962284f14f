import { z } from 'zod';
import type { CallEnd, CallInfo, EndCause, RejectedAttempt } from '../calls/lifecycle.js';
import { TELEPHONY_KINDS } from '../domain/model.js';
import type { LegSummary, MediaSummary } from '../media/summary.js';
import { billableSeconds, type BillingPlan } from './plan.js';

/**
 * Billing events, schema_version 2 (2 added `call.ended.media` and the end cause `media_timeout`;
 * nothing else changed from 1). One JSON document per stream entry (field `event`), with
 * `type` and `idempotency_key` repeated as stream fields for consumers that filter without parsing.
 *
 * - `idempotency_key` = `event_id` = `${call_id}:${type}`: at most one event of each type per call;
 *   consumers dedupe on it (the edge avoids re-appends itself, but delivery is at least once).
 * - Timestamps are Unix epoch milliseconds.
 * - Charges: `call.answered.billable_s` is the charge committed at answer (the plan's minimum: 60
 *   on first-minute plans), so a crash later cannot lose it. `call.ended.billable_s` is the call's
 *   TOTAL (it includes the minimum). Consumers charge `call.ended.billable_s` when it arrives, and
 *   `call.answered.billable_s` only for a call whose `call.ended` has not arrived; never their sum.
 * - Every answered call gets exactly one `call.answered` and one `call.ended`; an edge restart
 *   closes calls left open with `end_cause: "edge_restart"` and the duration up to the owning
 *   instance's last heartbeat (`recovered_by` names the instance that closed it).
 * - `call.corrected`: a recovery closed the call (edge_restart) while its instance was in fact alive
 *   (cut off from Redis longer than the liveness TTL); the instance, when the call really ends,
 *   states its real end. Its `billable_s` is the call's TOTAL and replaces the `call.ended` one:
 *   the charge of a call is the `billable_s` of its `call.corrected` if any, else of its
 *   `call.ended`, else (still open) of its `call.answered`. Applying it twice changes nothing.
 * - Unanswered, cancelled and rejected calls are never charged: `call.ended` with
 *   `status: "unanswered"` and `billable_s: 0`, or `call.rejected` (no `call.started`).
 */
export const SCHEMA_VERSION = 2;

export const EVENT_TYPES = ['call.started', 'call.answered', 'call.ended', 'call.corrected', 'call.rejected'] as const;
export type BillingEventType = (typeof EVENT_TYPES)[number];

export const END_CAUSES = [
  'caller_hangup',
  'callee_hangup',
  'max_duration',
  'shutdown',
  'cancelled',
  'failed',
  'edge_restart',
  'media_timeout',
  'session_timer',
  'error',
] as const satisfies readonly EndCause[];
// The other direction: every EndCause of the lifecycle is listed above.
type MissingCause = Exclude<EndCause, (typeof END_CAUSES)[number]>;
const allCausesListed: MissingCause extends never ? true : never = true;
void allCausesListed;

const ms = z.number().int().nonnegative();
const seconds = z.number().int().nonnegative();

export const planSchema = z.object({
  id: z.string().min(1),
  rule: z.enum(['first_minute', 'actual']),
  minimum_s: seconds,
  increment_s: z.number().int().min(1),
});

const envelope = {
  schema_version: z.literal(SCHEMA_VERSION),
  event_id: z.string().min(1),
  idempotency_key: z.string().min(1),
  call_id: z.string().min(1),
  direction: z.enum(['inbound', 'outbound']),
  /** when the edge observed what the event reports */
  occurred_at: ms,
  /** the edge instance that carried the call */
  instance_id: z.string().min(1),
  from: z.string(),
  to: z.string(),
};

/** What every event of an admitted call says about it. */
const callFields = {
  ...envelope,
  workspace_id: z.string().min(1),
  trunk_id: z.string().min(1),
  trunk_kind: z.enum(['managed', 'byoc']),
  number_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  telephony: z.enum(TELEPHONY_KINDS).nullable(),
  browser_test: z.boolean(),
  plan: planSchema,
  started_at: ms,
};

export const callStartedSchema = z.object({ type: z.literal('call.started'), ...callFields });

export const callAnsweredSchema = z.object({
  type: z.literal('call.answered'),
  ...callFields,
  answered_at: ms,
  /** the charge committed at answer: the plan's minimum */
  billable_s: seconds,
});

/** What the media anchor received from one leg: counters, and RTCP-based figures (null without reports). */
const legMediaSchema = z.object({
  packets: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  mos: z.number().min(1).max(5).nullable(),
  jitter_ms: z.number().nonnegative().nullable(),
  packet_loss_pct: z.number().min(0).max(100).nullable(),
  rtt_ms: z.number().nonnegative().nullable(),
});

/** The media of an anchored, answered call; null when the media anchor is off or the call was not answered. */
export const callMediaSchema = z.object({
  /** carrier -> agent: what the anchor received from the carrier */
  from_carrier: legMediaSchema,
  /** agent -> carrier: what the anchor received from the agent */
  from_agent: legMediaSchema,
  /** last RTP packet from either leg (second precision) */
  last_media_at: ms.nullable(),
});

export const callEndedSchema = z.object({
  type: z.literal('call.ended'),
  ...callFields,
  status: z.enum(['answered', 'unanswered']),
  answered_at: ms.nullable(),
  ended_at: ms,
  /** answer to end; 0 when unanswered */
  duration_ms: ms,
  /** the call's total charge (includes the minimum of call.answered); 0 when unanswered */
  billable_s: seconds,
  end_cause: z.enum(END_CAUSES),
  /** final SIP status of an unanswered call, else null */
  sip_status: z.number().int().min(100).max(699).nullable(),
  /** set only on end_cause edge_restart: the instance that closed the call */
  recovered_by: z.string().min(1).optional(),
  /** media figures of an anchored call (schema_version 2); null otherwise. With end_cause media_timeout, ended_at is the last media */
  media: callMediaSchema.nullable(),
});

/** The real end of an answered call that a recovery closed while its instance was alive. */
export const callCorrectedSchema = z.object({
  type: z.literal('call.corrected'),
  ...callFields,
  status: z.literal('answered'),
  answered_at: ms,
  ended_at: ms,
  duration_ms: ms,
  /** the call's total charge: replaces the billable_s of its call.ended */
  billable_s: seconds,
  end_cause: z.enum(END_CAUSES),
  sip_status: z.null(),
  /** the idempotency key of the call.ended this corrects */
  corrects: z.string().min(1),
});

export const callRejectedSchema = z.object({
  type: z.literal('call.rejected'),
  ...envelope,
  status: z.literal('rejected'),
  /** the stable reject reason code (the one in the Reason / X-Reject-Reason header) */
  reason: z.string().min(1),
  /** the SIP status sent, null when the request was dropped unanswered */
  sip_status: z.number().int().min(100).max(699).nullable(),
  workspace_id: z.string().nullable(),
  trunk_id: z.string().nullable(),
  billable_s: z.literal(0),
});

export const billingEventSchema = z
  .discriminatedUnion('type', [callStartedSchema, callAnsweredSchema, callEndedSchema, callCorrectedSchema, callRejectedSchema])
  .superRefine((e, ctx) => {
    const key = idempotencyKey(e.call_id, e.type);
    if (e.idempotency_key !== key) ctx.addIssue({ code: 'custom', path: ['idempotency_key'], message: `must be ${key}` });
    if (e.event_id !== e.idempotency_key) ctx.addIssue({ code: 'custom', path: ['event_id'], message: 'must equal idempotency_key' });
    if (e.type === 'call.ended') {
      if (e.status === 'unanswered' && (e.billable_s !== 0 || e.answered_at !== null || e.duration_ms !== 0)) {
        ctx.addIssue({ code: 'custom', path: ['billable_s'], message: 'an unanswered call has no answer time, no duration and no charge' });
      }
      if (e.status === 'answered' && e.answered_at === null) {
        ctx.addIssue({ code: 'custom', path: ['answered_at'], message: 'an answered call has an answer time' });
      }
      if (e.status === 'answered' && e.billable_s < e.plan.minimum_s) {
        ctx.addIssue({ code: 'custom', path: ['billable_s'], message: 'an answered call is billed at least the plan minimum' });
      }
    }
    if (e.type === 'call.corrected' && e.billable_s < e.plan.minimum_s) {
      ctx.addIssue({ code: 'custom', path: ['billable_s'], message: 'an answered call is billed at least the plan minimum' });
    }
  });

export type CallStartedEvent = z.infer<typeof callStartedSchema>;
export type CallAnsweredEvent = z.infer<typeof callAnsweredSchema>;
export type CallEndedEvent = z.infer<typeof callEndedSchema>;
export type CallRejectedEvent = z.infer<typeof callRejectedSchema>;
export type CallCorrectedEvent = z.infer<typeof callCorrectedSchema>;
export type BillingEvent = z.infer<typeof billingEventSchema>;

export function idempotencyKey(callId: string, type: BillingEventType): string {
  return `${callId}:${type}`;
}

function ids(callId: string, type: BillingEventType) {
  const key = idempotencyKey(callId, type);
  return { schema_version: SCHEMA_VERSION, event_id: key, idempotency_key: key } as const;
}

function callContext(call: CallInfo, plan: BillingPlan, instanceId: string) {
  return {
    call_id: call.callId,
    direction: call.direction,
    instance_id: instanceId,
    from: call.from,
    to: call.to,
    workspace_id: call.workspaceId,
    trunk_id: call.trunkId,
    trunk_kind: call.trunkKind,
    number_id: call.numberId,
    agent_id: call.agentId,
    telephony: call.telephony,
    browser_test: call.browserTest,
    plan,
    started_at: call.startedAt,
  };
}

export function callStarted(call: CallInfo, plan: BillingPlan, instanceId: string): CallStartedEvent {
  return { type: 'call.started', ...ids(call.callId, 'call.started'), occurred_at: call.startedAt, ...callContext(call, plan, instanceId) };
}

export function callAnswered(call: CallInfo, plan: BillingPlan, instanceId: string, answeredAt: number): CallAnsweredEvent {
  return {
    type: 'call.answered',
    ...ids(call.callId, 'call.answered'),
    occurred_at: answeredAt,
    ...callContext(call, plan, instanceId),
    answered_at: answeredAt,
    billable_s: plan.minimum_s,
  };
}

export function callEnded(call: CallInfo, plan: BillingPlan, instanceId: string, end: CallEnd): CallEndedEvent {
  const durationMs = end.answered ? Math.max(0, Math.round(end.durationMs)) : 0;
  return {
    type: 'call.ended',
    ...ids(call.callId, 'call.ended'),
    occurred_at: end.endedAt,
    ...callContext(call, plan, instanceId),
    status: end.answered ? 'answered' : 'unanswered',
    answered_at: end.answered ? end.endedAt - durationMs : null,
    ended_at: end.endedAt,
    duration_ms: durationMs,
    billable_s: end.answered ? billableSeconds(durationMs, plan) : 0,
    end_cause: end.cause,
    sip_status: end.answered ? null : (end.status ?? null),
    media: end.media ? mediaFields(end.media) : null,
  };
}

function legFields(leg: LegSummary): z.infer<typeof legMediaSchema> {
  const round = (v: number | null, digits: number): number | null => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);
  return {
    packets: leg.packets,
    bytes: leg.bytes,
    errors: leg.errors,
    mos: leg.mos === null ? null : Math.min(5, Math.max(1, round(leg.mos, 1)!)),
    jitter_ms: round(leg.jitterMs, 1),
    packet_loss_pct: leg.packetLossPct === null ? null : Math.min(100, round(leg.packetLossPct, 2)!),
    rtt_ms: round(leg.rttMs, 1),
  };
}

function mediaFields(media: MediaSummary): z.infer<typeof callMediaSchema> {
  return { from_carrier: legFields(media.fromCarrier), from_agent: legFields(media.fromAgent), last_media_at: media.lastMediaAt };
}

/**
 * The call.ended of an answered call whose instance died: the duration runs up to the owner's
 * last heartbeat (never before the answer).
 */
export function callEndedByRecovery(answered: CallAnsweredEvent, lastHeartbeat: number | null, recoveredBy: string): CallEndedEvent {
  const endedAt = Math.max(answered.answered_at, lastHeartbeat ?? answered.answered_at);
  const durationMs = endedAt - answered.answered_at;
  const { type: _type, event_id: _id, idempotency_key: _key, occurred_at: _at, billable_s: _b, ...context } = answered;
  return {
    ...context,
    type: 'call.ended',
    ...ids(answered.call_id, 'call.ended'),
    occurred_at: endedAt,
    status: 'answered',
    ended_at: endedAt,
    duration_ms: durationMs,
    billable_s: billableSeconds(durationMs, answered.plan),
    end_cause: 'edge_restart',
    sip_status: null,
    recovered_by: recoveredBy,
    media: null,
  };
}

/**
 * The owner's real end of a call that a recovery closed while the owner was alive: the same
 * figures as the owner's own call.ended, under its own idempotency key.
 */
export function callCorrected(ended: CallEndedEvent): CallCorrectedEvent {
  const { type: _type, event_id: _id, idempotency_key: key, recovered_by: _by, status: _status, answered_at, sip_status: _sip, ...rest } = ended;
  return {
    ...rest,
    type: 'call.corrected',
    ...ids(ended.call_id, 'call.corrected'),
    status: 'answered',
    answered_at: answered_at ?? ended.ended_at - ended.duration_ms,
    sip_status: null,
    corrects: key,
  };
}

export function callRejected(attempt: RejectedAttempt, instanceId: string): CallRejectedEvent {
  return {
    type: 'call.rejected',
    ...ids(attempt.callId, 'call.rejected'),
    occurred_at: attempt.at,
    call_id: attempt.callId,
    direction: attempt.direction,
    instance_id: instanceId,
    from: attempt.from,
    to: attempt.to,
    status: 'rejected',
    reason: attempt.reason,
    sip_status: attempt.status,
    workspace_id: attempt.workspaceId,
    trunk_id: attempt.trunkId,
    billable_s: 0,
  };
}
