/**
 * The state of a call placed through the API (POST /v1/calls), as GET /v1/calls/{id} and the
 * status callbacks show it. Pure: one record, events applied with guarded transitions.
 *
 *   queued -> dialing -> ringing -> answered -> completed
 *      \________\__________\______________________> failed
 *
 * `answered` is the destination (PSTN) answering: billing runs from there. The agent is dialled
 * then; `agent_answered_at` says when it answered and the two legs were bridged. An answered call
 * always ends `completed` (with the reason); one that never was ends `failed`.
 */
export type ApiCallState = 'queued' | 'dialing' | 'ringing' | 'answered' | 'completed' | 'failed';

export const API_CALL_STATES: readonly ApiCallState[] = ['queued', 'dialing', 'ringing', 'answered', 'completed', 'failed'];

const TRANSITIONS: Readonly<Record<ApiCallState, readonly ApiCallState[]>> = {
  queued: ['dialing', 'failed'],
  dialing: ['ringing', 'answered', 'failed'],
  ringing: ['answered', 'failed'],
  answered: ['completed'],
  completed: [],
  failed: [],
};

/** Why an API call ended: one closed set, the `end_reason` of the record and of callbacks. */
export type ApiCallEndReason =
  /** before the destination answered */
  | 'busy'
  | 'declined'
  | 'no_answer'
  | 'carrier_failed'
  | 'unreachable'
  | 'cancelled'
  /** after it answered */
  | 'destination_hangup'
  | 'agent_hangup'
  | 'api_hangup'
  | 'agent_no_answer'
  | 'agent_failed'
  | 'media_refused'
  | 'max_duration'
  /** either */
  | 'shutdown'
  | 'error';

export const API_CALL_END_REASONS: readonly ApiCallEndReason[] = [
  'busy', 'declined', 'no_answer', 'carrier_failed', 'unreachable', 'cancelled', 'destination_hangup', 'agent_hangup',
  'api_hangup', 'agent_no_answer', 'agent_failed', 'media_refused', 'max_duration', 'shutdown', 'error',
];

export interface ApiCallRecord {
  readonly id: string;
  readonly workspace_id: string;
  readonly agent_id: string;
  /** the caller ID (E.164) and its number record */
  readonly from_number: string;
  readonly number_id: string;
  /** the destination, E.164 */
  readonly to_number: string;
  readonly trunk_id: string;
  readonly state: ApiCallState;
  readonly created_at: string;
  readonly dialing_at: string | null;
  readonly ringing_at: string | null;
  readonly answered_at: string | null;
  readonly agent_answered_at: string | null;
  readonly ended_at: string | null;
  /** the destination leg's final SIP status (200 once answered), null while it rings */
  readonly sip_status: number | null;
  /** the agent leg's final SIP status, null until it got one */
  readonly agent_sip_status: number | null;
  readonly end_reason: ApiCallEndReason | null;
  /** seconds from answer to end (0 when never answered), set at the end */
  readonly duration_s: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly status_callback: string | null;
  /** the instance that carries the call (it alone can hang it up; others ask it over Redis) */
  readonly instance_id: string;
}

export type ApiCallEvent =
  | { readonly kind: 'dialing' }
  | { readonly kind: 'ringing' }
  | { readonly kind: 'answered' }
  | { readonly kind: 'agent_answered' }
  | { readonly kind: 'ended'; readonly reason: ApiCallEndReason; readonly sipStatus?: number; readonly agentSipStatus?: number };

export const isTerminal = (state: ApiCallState): boolean => state === 'completed' || state === 'failed';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The record after `event` at time `now`, or null when the event does not apply in the record's
 * state (a ringing after the answer, a second end...): callers then change nothing and notify no
 * one, so each state is reported once.
 */
export function applyApiCallEvent(record: ApiCallRecord, event: ApiCallEvent, now: number): ApiCallRecord | null {
  const to = (state: ApiCallState): boolean => TRANSITIONS[record.state].includes(state);
  switch (event.kind) {
    case 'dialing':
      return to('dialing') ? { ...record, state: 'dialing', dialing_at: iso(now) } : null;
    case 'ringing':
      return to('ringing') ? { ...record, state: 'ringing', ringing_at: iso(now) } : null;
    case 'answered':
      return to('answered') ? { ...record, state: 'answered', answered_at: iso(now), sip_status: 200 } : null;
    case 'agent_answered':
      // not a state of its own: the same answered call, now bridged to the agent
      return record.state === 'answered' && record.agent_answered_at === null ? { ...record, agent_answered_at: iso(now), agent_sip_status: 200 } : null;
    case 'ended': {
      const state: ApiCallState = record.answered_at !== null ? 'completed' : 'failed';
      if (!to(state)) return null;
      const answeredMs = record.answered_at === null ? null : Date.parse(record.answered_at);
      return {
        ...record,
        state,
        ended_at: iso(now),
        end_reason: event.reason,
        duration_s: answeredMs === null ? 0 : Math.max(0, Math.round((now - answeredMs) / 1000)),
        ...(event.sipStatus !== undefined && record.answered_at === null ? { sip_status: event.sipStatus } : {}),
        ...(event.agentSipStatus !== undefined ? { agent_sip_status: event.agentSipStatus } : {}),
      };
    }
    default: {
      const never: never = event;
      throw new Error(`unknown API call event ${JSON.stringify(never)}`);
    }
  }
}

/** The first record of an accepted call. */
export function queuedRecord(fields: Omit<ApiCallRecord, 'state' | 'created_at' | 'dialing_at' | 'ringing_at' | 'answered_at' | 'agent_answered_at' | 'ended_at' | 'sip_status' | 'agent_sip_status' | 'end_reason' | 'duration_s'>, now: number): ApiCallRecord {
  return {
    ...fields,
    state: 'queued',
    created_at: iso(now),
    dialing_at: null,
    ringing_at: null,
    answered_at: null,
    agent_answered_at: null,
    ended_at: null,
    sip_status: null,
    agent_sip_status: null,
    end_reason: null,
    duration_s: null,
  };
}
