import { describe, expect, it } from 'vitest';
import { checkInviteShape } from '../../../src/pipeline/steps/shape.js';
import { request, sdp } from '../support/fakes.js';

const padding = (bytes: number): string[] => Array.from({ length: Math.ceil(bytes / 60) }, (_, i) => `a=x-pad:${String(i).padStart(50, '0')}`);

describe('checkInviteShape', () => {
  it.each([
    ['a usual INVITE', {}, 'continue', undefined],
    ['no Contact', { headers: { Contact: '' } }, 'reject', 'contact_invalid'],
    ['Contact: *', { headers: { Contact: '*' } }, 'reject', 'contact_invalid'],
    ['Contact not a SIP URI', { headers: { Contact: '<http://example.com/>' } }, 'reject', 'contact_invalid'],
    ['sips: Contact', { headers: { Contact: '<sips:caller@192.0.2.10:5061>' } }, 'continue', undefined],
    ['an SDP of 6 KB', { sdp: sdp(padding(6000)) }, 'continue', undefined],
    ['an SDP of 12 KB', { sdp: sdp(padding(12_000)) }, 'reject', 'message_too_large'],
    ['an SDP of 60 KB', { sdp: sdp(padding(60_000)) }, 'reject', 'message_too_large'],
    ['a 9 KB Identity header beside a small SDP', { headers: { Identity: 'x'.repeat(9000) } }, 'reject', 'message_too_large'],
  ] as const)('%s', (_what, init, kind, reason) => {
    const decision = checkInviteShape(request(init), 10_000);
    expect(decision.kind).toBe(kind);
    if (reason) expect(decision).toMatchObject({ reason });
  });
});
