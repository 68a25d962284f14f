/**
 * The closed set of reasons a call is refused, and the one table that turns each into a SIP
 * status, a reason phrase and a metric label. The code itself is the stable machine-readable
 * value sent in X-Reject-Reason and in the Reason header.
 */
export type RejectReason =
  | 'unknown_source'
  | 'source_flood'
  | 'scanner'
  | 'auth_required'
  | 'auth_failed'
  | 'transport_not_allowed'
  | 'sips_requires_tls'
  | 'srtp_required'
  | 'srtp_not_allowed'
  | 'sdp_invalid'
  | 'body_malformed'
  | 'body_unsupported'
  | 'sdp_part_missing'
  | 'did_invalid'
  | 'number_not_found'
  | 'number_released'
  | 'number_outbound_only'
  | 'number_provisioning'
  | 'number_suspended'
  | 'number_wrong_workspace'
  | 'number_wrong_trunk'
  | 'agent_not_found'
  | 'route_unavailable'
  | 'limit_trunk_calls'
  | 'limit_trunk_cps'
  | 'limit_workspace_calls'
  | 'limit_workspace_cps'
  | 'draining'
  | 'source_not_agent'
  | 'caller_id_not_owned'
  | 'destination_invalid'
  | 'country_not_allowed'
  | 'premium_not_allowed'
  | 'destination_opted_out'
  | 'no_outbound_trunk'
  | 'contact_invalid'
  | 'message_too_large'
  | 'agent_answer_too_large';

export interface RejectSpec {
  readonly status: number;
  readonly phrase: string;
  /** Retry-After is sent with the answer (503s). */
  readonly retryAfter?: true;
  /** Warning header code (RFC 3261 20.43) and text, for media refusals. */
  readonly warning?: { readonly code: 305 | 399; readonly text: string };
}

export function rejectSpec(reason: RejectReason): RejectSpec {
  switch (reason) {
    case 'unknown_source':
      return { status: 403, phrase: 'Forbidden' };
    case 'scanner':
      return { status: 403, phrase: 'Forbidden' };
    case 'source_flood':
      return { status: 403, phrase: 'Forbidden' };
    case 'auth_required':
      return { status: 407, phrase: 'Proxy Authentication Required' };
    case 'auth_failed':
      return { status: 403, phrase: 'Forbidden' };
    case 'transport_not_allowed':
      return { status: 403, phrase: 'Forbidden - Transport Not Allowed' };
    case 'sips_requires_tls':
      return { status: 403, phrase: 'Forbidden - SIPS Requires TLS' };
    case 'srtp_required':
      return { status: 488, phrase: 'Not Acceptable Here', warning: { code: 399, text: 'SRTP required on this trunk' } };
    case 'srtp_not_allowed':
      return { status: 488, phrase: 'Not Acceptable Here', warning: { code: 305, text: 'SRTP not supported on this trunk' } };
    case 'sdp_invalid':
      return { status: 488, phrase: 'Not Acceptable Here', warning: { code: 399, text: 'Unreadable SDP offer' } };
    case 'body_malformed':
      return { status: 400, phrase: 'Bad Request - Malformed Body' };
    case 'body_unsupported':
      // RFC 3261 21.4.13: the answer lists what is accepted (Accept, added by the media step)
      return { status: 415, phrase: 'Unsupported Media Type' };
    case 'sdp_part_missing':
      return { status: 488, phrase: 'Not Acceptable Here', warning: { code: 399, text: 'No SDP part in multipart body' } };
    case 'did_invalid':
      return { status: 484, phrase: 'Address Incomplete' };
    case 'number_not_found':
      return { status: 404, phrase: 'Not Found' };
    case 'number_released':
      return { status: 404, phrase: 'Not Found' };
    case 'number_outbound_only':
      return { status: 404, phrase: 'Not Found' };
    case 'number_provisioning':
      return { status: 480, phrase: 'Temporarily Unavailable' };
    case 'number_suspended':
      return { status: 403, phrase: 'Forbidden - Number Suspended' };
    case 'number_wrong_workspace':
      return { status: 403, phrase: 'Forbidden' };
    case 'number_wrong_trunk':
      return { status: 403, phrase: 'Forbidden' };
    case 'agent_not_found':
      return { status: 480, phrase: 'Temporarily Unavailable' };
    case 'route_unavailable':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'limit_trunk_calls':
    case 'limit_trunk_cps':
    case 'limit_workspace_calls':
    case 'limit_workspace_cps':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'draining':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'source_not_agent':
      return { status: 403, phrase: 'Forbidden' };
    case 'caller_id_not_owned':
      return { status: 403, phrase: 'Forbidden - Caller ID Not Owned' };
    case 'destination_invalid':
      return { status: 484, phrase: 'Address Incomplete' };
    case 'country_not_allowed':
      return { status: 403, phrase: 'Forbidden - Country Not Allowed' };
    case 'premium_not_allowed':
      return { status: 403, phrase: 'Forbidden - Premium Destination' };
    case 'destination_opted_out':
      return { status: 403, phrase: 'Forbidden - Destination Opted Out' };
    case 'no_outbound_trunk':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'contact_invalid':
      return { status: 400, phrase: 'Bad Request - Missing or Invalid Contact' };
    case 'message_too_large':
      return { status: 513, phrase: 'Message Too Large' };
    case 'agent_answer_too_large':
      return { status: 500, phrase: 'Server Internal Error - Answer Too Large' };
    default: {
      const never: never = reason;
      throw new Error(`unmapped reject reason ${String(never)}`);
    }
  }
}

export const REJECT_REASONS: readonly RejectReason[] = [
  'unknown_source', 'source_flood', 'scanner', 'auth_required', 'auth_failed', 'transport_not_allowed', 'sips_requires_tls',
  'srtp_required', 'srtp_not_allowed', 'sdp_invalid', 'body_malformed', 'body_unsupported', 'sdp_part_missing', 'did_invalid', 'number_not_found', 'number_released',
  'number_outbound_only', 'number_provisioning', 'number_suspended', 'number_wrong_workspace', 'number_wrong_trunk',
  'agent_not_found', 'route_unavailable', 'limit_trunk_calls', 'limit_trunk_cps', 'limit_workspace_calls',
  'limit_workspace_cps', 'draining', 'source_not_agent', 'caller_id_not_owned', 'destination_invalid',
  'country_not_allowed', 'premium_not_allowed', 'destination_opted_out', 'no_outbound_trunk', 'contact_invalid', 'message_too_large',
  'agent_answer_too_large',
];
