import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { parseDigest } from '../../src/domain/digest.js';
import { describeE2E } from '../helpers/drachtioServer.js';
import { finalResponse, header, receivedRequests, runSippUac, withSippUas } from '../helpers/sipp.js';
import { useEdge } from './support/fixture.js';
import { freshNumber } from './support/world.js';

const AGENTS = '127.0.3.0/24';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
let agentHost = 10;
const agentSource = (): string => `127.0.3.${agentHost++}`;

/** BRIEF "Outbound call": an AI agent calls out through the edge to a carrier, end to end. */
describeE2E('outbound calls end to end', () => {
  const fx = useEdge({ sip: { agent_cidrs: [AGENTS] } });

  /** A managed trunk towards the given carrier URIs, an agent, and a caller ID number of its workspace on that trunk. */
  async function outboundSetup(terminations: { uri: string; priority: number }[], outbound: Record<string, unknown> = {}, workspace = `ws_${agentHost}`) {
    const trunk = await fx.world.trunk({
      kind: 'managed',
      inbound: { allowed_cidrs: [] },
      outbound: { termination_uris: terminations, allowed_countries: ['GB', 'US'], ...outbound },
    });
    const agent = await fx.world.agent('sip:agent@127.0.0.1:9', { workspace_id: workspace });
    const caller = await fx.world.number({ workspace_id: workspace, trunk_id: trunk.id, agent_id: agent.id });
    return { trunk, agent, caller };
  }

  const dial = (scenario: string, destination: string, agentId: string, caller: string, source = agentSource()) =>
    runSippUac({ scenario, target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: source, service: destination, keys: { caller, agent_id: agentId }, timeoutMs: 20_000 });

  it('completes a call to an allowed country with the caller ID the agent owns', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (carrier) => {
      const { agent, caller } = await outboundSetup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }]);
      const call = await dial('uac-agent-answered', '+442071234567', agent.id, caller.phone_number);
      expect(finalResponse(call.messages)?.status).toBe(200);
      const [invite] = receivedRequests(carrier.messages(), 'INVITE');
      expect(invite?.requestUri).toMatch(/^sip:\+442071234567@127\.0\.0\.1:\d+/);
      expect(header(invite, 'From')).toContain(`sip:${caller.phone_number}@`);
      expect(header(invite, 'X-Agent-Id')).toBeUndefined();
    });
  });

  it('refuses a disallowed country with 403 country_not_allowed, and no INVITE reaches the carrier', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (carrier) => {
      const { agent, caller } = await outboundSetup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }]);
      const call = await dial('uac-agent-403', '+33142685300', agent.id, caller.phone_number);
      const final = finalResponse(call.messages);
      expect(final?.status).toBe(403);
      expect(header(final, 'X-Reject-Reason')).toBe('country_not_allowed');
      expect(receivedRequests(carrier.messages(), 'INVITE')).toHaveLength(0);
    });
  });

  it("applies the workspace's own country list on top of the trunk's", async () => {
    const { agent, caller } = await outboundSetup([{ uri: 'sip:127.0.0.1:9', priority: 10 }], { allowed_countries: ['*'] });
    const put = await fx.edge.api(`/v1/workspaces/${agent.workspace_id}/outbound`, { method: 'PUT', body: { allowed_countries: ['US'] } });
    expect(put.status).toBe(200);
    const call = await dial('uac-agent-403', '+442071234567', agent.id, caller.phone_number);
    expect(header(finalResponse(call.messages), 'X-Reject-Reason')).toBe('country_not_allowed');
  });

  it('refuses a caller ID the workspace does not own with 403 caller_id_not_owned', async () => {
    const { agent } = await outboundSetup([{ uri: 'sip:127.0.0.1:9', priority: 10 }]);
    const foreign = await fx.world.number({ workspace_id: 'ws_someone_else' });
    for (const callerId of [foreign.phone_number, freshNumber()]) {
      const call = await dial('uac-agent-403', '+442071234567', agent.id, callerId);
      const final = finalResponse(call.messages);
      expect(final?.status).toBe(403);
      expect(header(final, 'X-Reject-Reason')).toBe('caller_id_not_owned');
    }
  });

  it('refuses a premium-rate destination with 403 premium_not_allowed', async () => {
    const { agent, caller } = await outboundSetup([{ uri: 'sip:127.0.0.1:9', priority: 10 }]);
    const call = await dial('uac-agent-403', '+449098790000', agent.id, caller.phone_number);
    expect(header(finalResponse(call.messages), 'X-Reject-Reason')).toBe('premium_not_allowed');
  });

  it('believes X-Agent-Id only from the agent infrastructure', async () => {
    const { agent, caller } = await outboundSetup([{ uri: 'sip:127.0.0.1:9', priority: 10 }]);
    const unknownAgent = await dial('uac-agent-403', '+442071234567', 'agt_nobody', caller.phone_number);
    expect(header(finalResponse(unknownAgent.messages), 'X-Reject-Reason')).toBe('source_not_agent');
    // the same request from outside the agent CIDRs is an inbound call from an unknown source
    const outsider = await dial('uac-agent-403', '+442071234567', agent.id, caller.phone_number, '127.0.4.1');
    expect(header(finalResponse(outsider.messages), 'X-Reject-Reason')).toBe('unknown_source');
  });

  it("answers the carrier's digest challenge with the trunk's credentials", async () => {
    await withSippUas({ scenario: 'uas-carrier-407' }, async (carrier) => {
      const { agent, caller } = await outboundSetup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], {
        auth_username: 'edge-user',
        auth_password: 'edge-secret-1',
      });
      const call = await dial('uac-agent-answered', '+12025550123', agent.id, caller.phone_number);
      expect(finalResponse(call.messages)?.status).toBe(200);
      const invites = receivedRequests(carrier.messages(), 'INVITE');
      expect(invites).toHaveLength(2);
      const auth = parseDigest(header(invites[1], 'Proxy-Authorization'));
      expect(auth?.username).toBe('edge-user');
      expect(auth?.realm).toBe('carrier.example');
      // the carrier's check: MD5(HA1:nonce:HA2) with the trunk's password (the challenge had no qop)
      const ha1 = md5(`edge-user:carrier.example:edge-secret-1`);
      const ha2 = md5(`INVITE:${auth?.uri}`);
      expect(auth?.response).toBe(md5(`${ha1}:${auth?.nonce}:${ha2}`));
    });
  });

  it('fails over to the second termination URI when the first answers 503', async () => {
    await withSippUas({ scenario: 'uas-carrier-503' }, async (first) => {
      await withSippUas({ scenario: 'uas-carrier-answer' }, async (second) => {
        const { agent, caller } = await outboundSetup([
          { uri: `sip:${second.ip}:${second.port}`, priority: 20 },
          { uri: `sip:${first.ip}:${first.port}`, priority: 10 },
        ]);
        const call = await dial('uac-agent-answered', '+442071234567', agent.id, caller.phone_number);
        expect(finalResponse(call.messages)?.status).toBe(200);
        expect(receivedRequests(first.messages(), 'INVITE')).toHaveLength(1);
        expect(receivedRequests(second.messages(), 'INVITE')).toHaveLength(1);
      });
    });
  });

  it('does not fail over after 486 Busy from the carrier', async () => {
    await withSippUas({ scenario: 'uas-agent-busy' }, async (first) => {
      await withSippUas({ scenario: 'uas-carrier-answer' }, async (second) => {
        const { agent, caller } = await outboundSetup([
          { uri: `sip:${first.ip}:${first.port}`, priority: 10 },
          { uri: `sip:${second.ip}:${second.port}`, priority: 20 },
        ]);
        const call = await dial('uac-agent-486', '+442071234567', agent.id, caller.phone_number);
        expect(finalResponse(call.messages)?.status).toBe(486);
        expect(receivedRequests(second.messages(), 'INVITE')).toHaveLength(0);
      });
    });
  });

  it('explains outbound decisions in the route-test dry run, with the step that made them', async () => {
    const { agent, caller, trunk } = await outboundSetup([{ uri: 'sip:127.0.0.1:9', priority: 10 }]);
    const ask = (body: Record<string, unknown>) => fx.edge.api('/v1/route-test', { body: { direction: 'outbound', ...body } });
    const ok = await ask({ source_ip: '127.0.3.200', agent_id: agent.id, request_uri: 'sip:+442071234567@edge', from: `<sip:${caller.phone_number}@agents>` });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ decision: 'accept', trunk_id: trunk.id, outbound: { destination: { e164: '+442071234567', country: 'GB' } } });
    const france = await ask({ source_ip: '127.0.3.200', agent_id: agent.id, request_uri: 'sip:+33142685300@edge', from: `<sip:${caller.phone_number}@agents>` });
    expect(france.body).toMatchObject({ decision: 'reject', step: 'country', reason: 'country_not_allowed', status: 403 });
    const outsider = await ask({ source_ip: '127.0.4.9', agent_id: agent.id, request_uri: 'sip:+442071234567@edge' });
    expect(outsider.body).toMatchObject({ decision: 'reject', step: 'source', reason: 'source_not_agent' });
  });
});
