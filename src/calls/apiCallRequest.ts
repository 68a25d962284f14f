import { createHash } from 'node:crypto';
import type { OutboundPlan, SipRequestView } from '../pipeline/types.js';
import type { ApiCallEndReason, ApiCallRecord } from './apiCallState.js';
import type { EndCause } from './lifecycle.js';

/** A validated POST /v1/calls body. */
export interface ApiCallRequest {
  readonly workspace_id: string;
  readonly from_number: string;
  readonly to_number: string;
  readonly agent_id: string;
  readonly max_duration_s?: number | undefined;
  readonly ring_timeout_s?: number | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly status_callback?: string | undefined;
}

/** Metadata reaches the agent as `X-Meta-<key>: <value>`: a fixed prefix, so it never names an edge header. */
export const METADATA_HEADER_PREFIX = 'X-Meta-';

/** The same request gives the same fingerprint, whatever the order of its metadata keys. */
export function requestFingerprint(req: ApiCallRequest): string {
  const metadata = Object.entries(req.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = [req.workspace_id, req.from_number, req.to_number, req.agent_id, req.max_duration_s ?? null, req.ring_timeout_s ?? null, metadata, req.status_callback ?? null];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** How the end of an answered call's session (BYE, max duration...) reads in the API record. */
export function endReasonOf(cause: EndCause): ApiCallEndReason {
  switch (cause) {
    case 'caller_hangup':
      // the agent holds the caller's place of an outbound call
      return 'agent_hangup';
    case 'callee_hangup':
      return 'destination_hangup';
    case 'max_duration':
      return 'max_duration';
    case 'shutdown':
      return 'shutdown';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
    case 'edge_restart':
    case 'media_timeout':
    case 'session_timer':
    case 'error':
      return 'error';
    default: {
      const never: never = cause;
      throw new Error(`unknown end cause ${String(never)}`);
    }
  }
}

/** The request as the outbound pipeline reads an agent's INVITE: no source, no SDP (the destination offers). */
export function requestView(id: string, req: ApiCallRequest): SipRequestView {
  return {
    method: 'INVITE',
    callId: id,
    sourceAddress: '',
    transport: '',
    requestUri: `sip:${encodeURIComponent(req.to_number)}@api.invalid`,
    to: `<sip:${encodeURIComponent(req.to_number)}@api.invalid>`,
    from: `<sip:${encodeURIComponent(req.from_number)}@api.invalid>`,
    body: undefined,
    contentType: undefined,
    header: (name) => (name.toLowerCase() === 'x-agent-id' ? req.agent_id : undefined),
  };
}

/** What the agent is told: who the call is for, which call it is, the metadata under its prefix. */
export function agentHeaders(record: ApiCallRecord, plan: OutboundPlan): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Workspace-Id': record.workspace_id,
    'X-Agent-Id': record.agent_id,
    'X-Number-Id': plan.callerNumber.id,
    'X-Call-Id': record.id,
    'X-Direction': 'outbound-api',
    'X-From-Number': record.from_number,
    'X-To-Number': record.to_number,
  };
  for (const [key, value] of Object.entries(record.metadata)) headers[`${METADATA_HEADER_PREFIX}${key}`] = value;
  return headers;
}
