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
  | 'agent_answer_too_large'
  | 'agent_unreachable'
  | 'agent_timeout'
  | 'agent_busy'
  | 'agent_rejected'
  | 'agent_unavailable'
  | 'voicemail_failed'
  | 'carrier_unreachable'
  | 'carrier_timeout'
  | 'carrier_busy'
  | 'carrier_rejected'
  | 'carrier_unavailable'
  | 'edge_error'
  // protocol checks (RFC 3261 8.2, 16.3): requests the edge cannot or will not process
  | 'method_not_allowed'
  | 'too_many_hops'
  | 'bad_extension'
  | 'unsupported_uri_scheme'
  | 'message_unparseable'
  // digest brute force: a source over the failed-auth limit is dropped for a cool-off
  | 'auth_blocked'
  | 'session_interval_too_small'
  | 'media_unavailable'
  | 'media_encryption_mismatch'
  // browser test calls (the ws/wss entry): the X-Test-Call-Token the INVITE carries
  | 'test_call_token_invalid'
  | 'test_call_token_expired'
  | 'test_call_token_used';

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
    // Failures of the called side: the status is the one the caller gets when the edge makes it
    // up (unreachable, timeout); a status the agent or carrier sent is forwarded as it was.
    case 'agent_unreachable':
    case 'carrier_unreachable':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'agent_unavailable':
    case 'carrier_unavailable':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'agent_timeout':
    case 'carrier_timeout':
      return { status: 480, phrase: 'Temporarily Unavailable' };
    case 'agent_busy':
    case 'carrier_busy':
      return { status: 486, phrase: 'Busy Here' };
    case 'agent_rejected':
    case 'carrier_rejected':
      return { status: 403, phrase: 'Forbidden' };
    case 'voicemail_failed':
      return { status: 480, phrase: 'Temporarily Unavailable' };
    case 'edge_error':
      return { status: 500, phrase: 'Server Internal Error' };
    case 'method_not_allowed':
      return { status: 405, phrase: 'Method Not Allowed' };
    case 'too_many_hops':
      return { status: 483, phrase: 'Too Many Hops' };
    case 'bad_extension':
      return { status: 420, phrase: 'Bad Extension' };
    case 'unsupported_uri_scheme':
      return { status: 416, phrase: 'Unsupported URI Scheme' };
    case 'message_unparseable':
      return { status: 400, phrase: 'Bad Request' };
    case 'auth_blocked':
      // always a drop; the status is what it would be if an operator turned drops into answers
      return { status: 403, phrase: 'Forbidden' };
    case 'session_interval_too_small':
      return { status: 422, phrase: 'Session Interval Too Small' };
    case 'media_unavailable':
      return { status: 503, phrase: 'Service Unavailable', retryAfter: true };
    case 'media_encryption_mismatch':
      return { status: 488, phrase: 'Not Acceptable Here', warning: { code: 305, text: "Media encryption does not match this leg's policy" } };
    case 'test_call_token_invalid':
      return { status: 403, phrase: 'Forbidden - Test Call Token Invalid' };
    case 'test_call_token_expired':
      return { status: 403, phrase: 'Forbidden - Test Call Token Expired' };
    case 'test_call_token_used':
      return { status: 403, phrase: 'Forbidden - Test Call Token Already Used' };
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
  'country_not_allowed', 'premium_not_allowed', 'no_outbound_trunk', 'contact_invalid', 'message_too_large',
  'agent_answer_too_large', 'agent_unreachable', 'agent_timeout', 'agent_busy', 'agent_rejected', 'agent_unavailable',
  'voicemail_failed', 'carrier_unreachable', 'carrier_timeout', 'carrier_busy', 'carrier_rejected', 'carrier_unavailable',
  'edge_error', 'method_not_allowed', 'too_many_hops', 'bad_extension', 'unsupported_uri_scheme', 'message_unparseable', 'auth_blocked',
  'media_unavailable', 'media_encryption_mismatch', 'session_interval_too_small',
  'destination_opted_out',
  'test_call_token_invalid', 'test_call_token_expired', 'test_call_token_used',
];
