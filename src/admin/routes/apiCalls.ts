import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_CALL_END_REASONS, API_CALL_STATES, type ApiCallRecord } from '../../calls/apiCallState.js';
import { METADATA_HEADER_PREFIX, type ApiCalls } from '../../calls/apiCalls.js';
import { idSchema, workspaceIdSchema } from '../../domain/model.js';
import { rejectSpec, type RejectReason } from '../../pipeline/reasons.js';
import { ApiError, parseWith } from '../errors.js';
import { json } from '../openapi.js';

export interface ApiCallRouteDeps {
  readonly calls: ApiCalls;
  /** api_calls.max_ring_timeout_s */
  readonly maxRingTimeoutS: number;
  /** Retry-After of 429/503 answers (sip.retry_after_s) */
  readonly retryAfterS: number;
}

const METADATA_MAX_ENTRIES = 16;
/** Keys and values together: they travel as SIP headers in an INVITE that must fit sip.max_message_bytes. */
const METADATA_MAX_BYTES = 1024;

const metadataSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, 'keys are 1-32 letters, digits and "-"'),
    z.string().max(256).regex(/^[\x20-\x7E]*$/, 'values are printable ASCII (they become SIP header values)'),
  )
  .superRefine((m, ctx) => {
    const entries = Object.entries(m);
    if (entries.length > METADATA_MAX_ENTRIES) ctx.addIssue({ code: 'custom', message: `at most ${METADATA_MAX_ENTRIES} entries` });
    const bytes = entries.reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    if (bytes > METADATA_MAX_BYTES) ctx.addIssue({ code: 'custom', message: `keys and values together at most ${METADATA_MAX_BYTES} characters` });
  });

export function apiCallRequestSchema(maxRingTimeoutS: number) {
  return z.strictObject({
    workspace_id: workspaceIdSchema,
    from_number: z.string().min(1).max(64).describe('caller ID: an active number of the workspace (E.164 or any notation libphonenumber reads)'),
    to_number: z.string().min(1).max(64).describe('the destination'),
    agent_id: idSchema.describe("the agent (of the workspace) that takes the call once it is answered"),
    max_duration_s: z.number().int().min(1).max(7 * 86_400).optional().describe("ends the call after this long; never longer than the trunk's limit"),
    ring_timeout_s: z.number().int().min(1).max(maxRingTimeoutS).optional().describe('how long the destination may ring (sip.outbound_ring_timeout_s when absent)'),
    metadata: metadataSchema.optional().describe(`passed to the agent as ${METADATA_HEADER_PREFIX}<key> headers`),
    status_callback: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2048)
      .optional()
      .describe('receives a signed JSON POST at every state change'),
  });
}

export const apiCallRecordSchema = z.object({
  id: z.string(),
  workspace_id: z.string(),
  agent_id: z.string(),
  from_number: z.string(),
  number_id: z.string(),
  to_number: z.string(),
  trunk_id: z.string(),
  state: z.enum(API_CALL_STATES as [string, ...string[]]),
  created_at: z.string(),
  dialing_at: z.string().nullable(),
  ringing_at: z.string().nullable(),
  answered_at: z.string().nullable().describe('the destination answered (billing runs from here)'),
  agent_answered_at: z.string().nullable().describe('the agent answered and the legs were bridged'),
  ended_at: z.string().nullable(),
  sip_status: z.number().int().nullable().describe("the destination leg's final SIP status"),
  agent_sip_status: z.number().int().nullable(),
  end_reason: z.enum(API_CALL_END_REASONS as [string, ...string[]]).nullable(),
  duration_s: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()),
  status_callback: z.string().nullable(),
  instance_id: z.string(),
});
// the documented shape and the record the code writes are the same
const sameShape: ApiCallRecord extends z.infer<typeof apiCallRecordSchema> ? true : never = true;
void sameShape;

const idParams = z.strictObject({ id: z.string() });
const CALL_ID = /^call_[A-Za-z0-9_-]{1,64}$/;
const idempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x21-\x7E]+$/, 'visible ASCII without spaces');

const LIMITS: ReadonlySet<RejectReason> = new Set(['limit_trunk_calls', 'limit_trunk_cps', 'limit_workspace_calls', 'limit_workspace_cps']);

/**
 * The HTTP status of a refused API call, from the reason's SIP status in the one reasons table:
 * limits 429 (the API client paces, the SIP 503 is for carriers), 403 stays 403, other 503s stay
 * 503, a destination that is no phone number is the request's fault (400), anything else is a rule
 * the stored data does not satisfy (422: unknown agent, no trunk, media policy).
 */
export function httpStatusOf(reason: RejectReason): number {
  if (LIMITS.has(reason)) return 429;
  if (reason === 'destination_invalid') return 400;
  const sip = rejectSpec(reason).status;
  if (sip === 403 || sip === 503) return sip;
  return 422;
}

function callId(params: unknown): string {
  const { id } = parseWith(idParams, params, 'path');
  if (!CALL_ID.test(id)) throw new ApiError(404, 'call_not_found', `no call ${id.slice(0, 80)}`);
  return id;
}

/** POST /v1/calls, GET /v1/calls/{id}, DELETE /v1/calls/{id}. GET /v1/calls (active calls) lives in calls.ts. */
export function registerApiCalls(app: FastifyInstance, deps: ApiCallRouteDeps): void {
  const requestSchema = apiCallRequestSchema(deps.maxRingTimeoutS);
  const record = json(apiCallRecordSchema);

  app.post(
    '/v1/calls',
    {
      config: {
        openapi: {
          summary: 'Place a call: dial the destination, then bridge the agent',
          description:
            'Runs the outbound policy of agent-originated calls (caller ID ownership, allowed countries, premium numbers, do-not-call lists, trunk and workspace limits) and answers 201 at once with the call in state queued; progress by GET /v1/calls/{id} and signed status callbacks. Refusals carry the stable reason code of the SIP refusal (error.code, e.g. country_not_allowed, destination_opted_out; limits: 429 with Retry-After). An Idempotency-Key header makes a retried request return the same call (201, header Idempotent-Replayed: true) without dialling again; the same key with another body is 422 idempotency_key_reused, a key whose first request is still being decided 409 idempotency_key_in_progress.',
          tags: ['calls'],
          operationId: 'createCall',
          body: { content: json(requestSchema) },
          responses: { 201: { description: 'Accepted; the call is placed now', content: record } },
          errors: [400, 403, 409, 422, 429, 503],
        },
      },
    },
    async (req, reply) => {
      const body = parseWith(requestSchema, req.body ?? {});
      const rawKey = req.headers['idempotency-key'];
      const key = rawKey === undefined ? undefined : parseWith(idempotencyKeySchema, Array.isArray(rawKey) ? rawKey[0] : rawKey, 'headers.Idempotency-Key');
      const outcome = await deps.calls.create(body, key);
      switch (outcome.kind) {
        case 'created':
          if (outcome.replayed) reply.header('idempotent-replayed', 'true');
          return reply.code(201).header('location', `/v1/calls/${outcome.record.id}`).send(outcome.record);
        case 'refused': {
          const status = httpStatusOf(outcome.reason);
          if (status === 429 || status === 503) reply.header('retry-after', String(deps.retryAfterS));
          const field = outcome.reason === 'destination_invalid' ? { errors: [{ field: 'to_number', code: 'destination_invalid', message: outcome.detail }] } : {};
          throw new ApiError(status, outcome.reason, outcome.detail, { reason: outcome.reason, sip_status: rejectSpec(outcome.reason).status, ...field });
        }
        case 'idempotency_mismatch':
          throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
        case 'idempotency_in_progress':
          reply.header('retry-after', '1');
          throw new ApiError(409, 'idempotency_key_in_progress', 'the first request with this Idempotency-Key is still being decided; retry');
        case 'callbacks_not_configured':
          throw new ApiError(422, 'callbacks_not_configured', 'status_callback needs callbacks.secret (CALLBACK_SECRET) to sign deliveries', {
            errors: [{ field: 'status_callback', code: 'callbacks_not_configured', message: 'no signing secret configured' }],
          });
        default: {
          const never: never = outcome;
          throw new Error(`unknown outcome ${JSON.stringify(never)}`);
        }
      }
    },
  );

  app.get(
    '/v1/calls/:id',
    { config: { openapi: { summary: 'A call placed through the API: state, timestamps, SIP status, reason', tags: ['calls'], responses: { 200: { description: 'The call', content: record } }, errors: [404] } } },
    async (req) => {
      const id = callId(req.params);
      const found = await deps.calls.get(id);
      if (!found) throw new ApiError(404, 'call_not_found', `no call ${id}`);
      return found;
    },
  );

  app.delete(
    '/v1/calls/:id',
    {
      config: {
        openapi: {
          summary: 'Hang up a call placed through the API',
          description: 'Cancels the call while it rings, or ends both legs with BYE once answered. 200 with the ended call when this instance carries it (or it had ended already); 202 when another instance carries it and was asked to.',
          tags: ['calls'],
          responses: { 200: { description: 'Ended', content: record }, 202: { description: 'Hang-up requested from the instance carrying the call', content: record } },
          errors: [404],
        },
      },
    },
    async (req, reply) => {
      const outcome = await deps.calls.hangup(callId(req.params));
      if (outcome.kind === 'not_found') throw new ApiError(404, 'call_not_found', 'no such call');
      return reply.code(outcome.kind === 'ended' ? 200 : 202).send(outcome.record);
    },
  );
}
