import { expect, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { header, receivedRequests, sentResponses, withSippUas } from '../../helpers/sipp.js';
import { callOverTcp } from '../support/tcpCaller.js';
import { useEdge } from '../support/fixture.js';

const HOSTILE_FROM_CARRIER = {
  'X-Workspace-Id': 'ws_spoofed',
  'X-Agent-Id': 'agent_spoofed',
  'P-Asserted-Identity': '<sip:+19998887777@10.9.9.9>',
  'User-Agent': 'CarrierSBC/9 (10.9.9.9)',
};
const INTERNAL = /10\.8\.3\.17|InternalMediaServer|ws_internal|X-Internal-Node/i;

/** Issue 14.1: the dialog header policy holds for in-dialog requests and answers, both ways. */
describeE2E('hostile: headers inside the dialog', () => {
  const fx = useEdge();

  it('lets no X-, identity or internal header cross in either direction (INFO and its 200)', async () => {
    await withSippUas({ scenario: 'uas-agent-info-both-ways' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri });
      const result = await callOverTcp(fx.drachtio, r.source, r.number.phone_number, {
        midCall: [{ method: 'INFO', body: 'Signal=1\r\nDuration=160\r\n', contentType: 'application/dtmf-relay', headers: HOSTILE_FROM_CARRIER }],
        headers: HOSTILE_FROM_CARRIER,
        holdMs: 1500,
      });
      expect(result.status).toBe(200);

      // carrier -> agent: the INFO arrives with its body type, without the carrier's X- / identity headers
      const [info] = receivedRequests(agent.messages(), 'INFO');
      expect(info).toBeDefined();
      expect(header(info, 'Content-Type')).toBe('application/dtmf-relay');
      for (const name of Object.keys(HOSTILE_FROM_CARRIER)) expect(header(info, name), name).toBeUndefined();

      // agent -> carrier: the 200 to the INFO and the agent's own INFO carry nothing internal
      const infoAnswer = result.midCallResponses?.[0];
      expect(infoAnswer?.status).toBe(200);
      expect(infoAnswer?.raw).not.toMatch(INTERNAL);
      expect(sentResponses(agent.messages(), 'INFO')[0]?.raw ?? '').toMatch(INTERNAL); // the agent did send them
      const agentInfo = result.requestsReceived?.find((m) => m.reason.startsWith('INFO '));
      expect(agentInfo, 'the agent INFO reached the carrier').toBeDefined();
      expect(agentInfo?.raw).not.toMatch(INTERNAL);
      expect(agentInfo?.raw).not.toMatch(/^X-/im);
      expect(agentInfo?.headers['content-type']).toEqual(['application/dtmf-relay']);
      expect(agentInfo?.headers['info-package']).toEqual(['dtmf']);
      expect(result.byeResponse?.status).toBe(200);
    });
  });
});
