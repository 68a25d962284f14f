import type Srf from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import { pendingInviteCount, releaseUnanswered } from '../../../src/types/drachtio.js';

/** The shapes drachtio-srf 5.0.x gives requests and responses (lib/drachtio-agent.js#_onMsg). */
function fakeAgent() {
  const socket = {};
  const pendingNetworkInvites = new Map<string, { req: unknown; res: unknown }>();
  const agent = { mapServer: new Map([[socket, { pendingNetworkInvites }]]) };
  const invite = (callId: string, method = 'INVITE') => {
    const req = { method, get: (h: string) => (h.toLowerCase() === 'call-id' ? callId : undefined) };
    const res = { agent, socket, req };
    if (method === 'INVITE') pendingNetworkInvites.set(callId, { req, res });
    return res as unknown as Srf.SrfResponse;
  };
  const srf = { _app: { client: agent } } as unknown as Srf;
  return { pendingNetworkInvites, invite, srf };
}

describe('releaseUnanswered / pendingInviteCount', () => {
  it('removes exactly the dropped INVITE from drachtio-srf\'s table', () => {
    const { pendingNetworkInvites, invite, srf } = fakeAgent();
    const a = invite('a@x');
    invite('b@x');
    expect(pendingInviteCount(srf)).toBe(2);
    expect(releaseUnanswered(a)).toBe(true);
    expect([...pendingNetworkInvites.keys()]).toEqual(['b@x']);
    expect(releaseUnanswered(a)).toBe(false); // already gone
    expect(pendingInviteCount(srf)).toBe(1);
  });

  it('leaves another request that reuses the Call-ID alone', () => {
    const { pendingNetworkInvites, invite } = fakeAgent();
    const first = invite('same@x');
    invite('same@x'); // a later INVITE with the same Call-ID took the slot
    expect(releaseUnanswered(first)).toBe(false);
    expect(pendingNetworkInvites.size).toBe(1);
  });

  it('does nothing for other methods or shapes it does not know', () => {
    const { invite, srf } = fakeAgent();
    expect(releaseUnanswered(invite('o@x', 'OPTIONS'))).toBe(false);
    expect(releaseUnanswered({} as Srf.SrfResponse)).toBe(false);
    expect(pendingInviteCount({} as Srf)).toBe(0);
    expect(pendingInviteCount(srf)).toBe(0);
  });
});
