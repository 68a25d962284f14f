import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../../src/admin/routes/apiCalls.js';
import { REJECT_REASONS, rejectSpec, type RejectReason } from '../../../src/pipeline/reasons.js';

describe('HTTP status of a refused API call', () => {
  it.each<[RejectReason, number]>([
    ['country_not_allowed', 403],
    ['premium_not_allowed', 403],
    ['caller_id_not_owned', 403],
    ['destination_opted_out', 403],
    ['limit_trunk_calls', 429],
    ['limit_trunk_cps', 429],
    ['limit_workspace_calls', 429],
    ['limit_workspace_cps', 429],
    ['route_unavailable', 503],
    ['draining', 503],
    ['destination_invalid', 400],
    ['agent_not_found', 422],
    ['srtp_required', 422],
  ])('%s -> %d', (reason, status) => {
    expect(httpStatusOf(reason)).toBe(status);
  });

  it.each(REJECT_REASONS.map((r) => [r]))('%s maps to a 4xx/503 that follows its SIP refusal', (reason) => {
    const status = httpStatusOf(reason);
    expect([400, 403, 422, 429, 503]).toContain(status);
    if (rejectSpec(reason).status === 403) expect(status).toBe(403);
  });
});
