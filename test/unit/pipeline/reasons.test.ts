import { describe, expect, it } from 'vitest';
import { REJECT_REASONS, rejectSpec, type RejectReason } from '../../../src/pipeline/reasons.js';

/** Compile-time list of every RejectReason: tsc fails when the union gains or loses a member. */
const EVERY_REASON: Record<RejectReason, true> = {
  unknown_source: true,
  source_flood: true, scanner: true, auth_required: true, auth_failed: true, transport_not_allowed: true,
  sips_requires_tls: true, srtp_required: true, srtp_not_allowed: true, sdp_invalid: true, did_invalid: true,
  body_malformed: true, body_unsupported: true, sdp_part_missing: true,
  number_not_found: true, number_released: true, number_outbound_only: true, number_provisioning: true,
  number_suspended: true, number_wrong_workspace: true, number_wrong_trunk: true, agent_not_found: true,
  route_unavailable: true, limit_trunk_calls: true, limit_trunk_cps: true, limit_workspace_calls: true,
  limit_workspace_cps: true, draining: true, source_not_agent: true, caller_id_not_owned: true,
  destination_invalid: true, country_not_allowed: true, premium_not_allowed: true, no_outbound_trunk: true,
  contact_invalid: true, message_too_large: true, agent_answer_too_large: true, agent_unreachable: true, agent_timeout: true,
  agent_busy: true, agent_rejected: true, agent_unavailable: true, voicemail_failed: true, carrier_unreachable: true,
  carrier_timeout: true, carrier_busy: true, carrier_rejected: true, carrier_unavailable: true, edge_error: true,
  method_not_allowed: true, too_many_hops: true, bad_extension: true, unsupported_uri_scheme: true,
  message_unparseable: true, auth_blocked: true,
  media_unavailable: true, media_encryption_mismatch: true, session_interval_too_small: true,
  destination_opted_out: true,
  test_call_token_invalid: true, test_call_token_expired: true, test_call_token_used: true,
};

describe('REJECT_REASONS', () => {
  it('has no duplicates', () => {
    expect(new Set(REJECT_REASONS).size).toBe(REJECT_REASONS.length);
  });

  it('lists every member of RejectReason', () => {
    expect([...REJECT_REASONS].sort()).toEqual(Object.keys(EVERY_REASON).sort());
  });

  it.each(REJECT_REASONS.map((r) => [r]))('%s maps to a SIP failure status and a phrase', (reason) => {
    const spec = rejectSpec(reason);
    expect(spec.status).toBeGreaterThanOrEqual(400);
    expect(spec.status).toBeLessThan(700);
    expect(spec.phrase.trim()).not.toBe('');
    // The code is also the metric label and the X-Reject-Reason value: bounded, header-safe.
    expect(reason).toMatch(/^[a-z][a-z_]*$/);
  });
});

describe('rejectSpec per BRIEF', () => {
  it.each<[RejectReason, number]>([
    ['unknown_source', 403],
    ['transport_not_allowed', 403],
    ['sips_requires_tls', 403],
    ['auth_required', 407],
    ['contact_invalid', 400],
    ['message_too_large', 513],
    ['media_unavailable', 503],
    ['media_encryption_mismatch', 488],
    ['number_not_found', 404],
    ['number_released', 404],
    ['number_outbound_only', 404],
    ['number_provisioning', 480],
    ['number_suspended', 403],
    ['number_wrong_workspace', 403],
    ['srtp_required', 488],
    ['srtp_not_allowed', 488],
    ['limit_trunk_calls', 503],
    ['limit_trunk_cps', 503],
    ['limit_workspace_calls', 503],
    ['limit_workspace_cps', 503],
    ['draining', 503],
    ['source_not_agent', 403],
    ['caller_id_not_owned', 403],
    ['country_not_allowed', 403],
    // RFC 3261: 8.2.1, 16.3 step 3, 8.2.2.3, 8.2.2.1, 21.4.1
    ['method_not_allowed', 405],
    ['too_many_hops', 483],
    ['bad_extension', 420],
    ['unsupported_uri_scheme', 416],
    ['message_unparseable', 400],
    // issue 16: an INVITE on the browser entry without a valid token
    ['test_call_token_invalid', 403],
    ['test_call_token_expired', 403],
    ['test_call_token_used', 403],
  ])('%s -> %i', (reason, status) => {
    expect(rejectSpec(reason).status).toBe(status);
  });

  it('says "suspended" in the reason text of a suspended number', () => {
    expect(rejectSpec('number_suspended').phrase).toMatch(/suspended/i);
  });

  it.each<RejectReason>(['srtp_required', 'srtp_not_allowed', 'media_encryption_mismatch'])('%s carries a Warning with code 305 or 399', (reason) => {
    const warning = rejectSpec(reason).warning;
    expect([305, 399]).toContain(warning?.code);
    expect(warning?.text.trim()).not.toBe('');
  });

  it.each(REJECT_REASONS.filter((r) => rejectSpec(r).status === 503).map((r) => [r]))('503 for %s comes with Retry-After', (reason) => {
    expect(rejectSpec(reason).retryAfter).toBe(true);
  });

  it.each<RejectReason>(['limit_trunk_calls', 'limit_trunk_cps', 'limit_workspace_calls', 'limit_workspace_cps', 'draining'])(
    '%s asks for Retry-After',
    (reason) => {
      expect(rejectSpec(reason).retryAfter).toBe(true);
    },
  );
});
