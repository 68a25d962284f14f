import { expect, it } from 'vitest';
import { describeE2E } from '../helpers/drachtioServer.js';
import { finalResponse, receivedRequests, runSippUac, withSippUas } from '../helpers/sipp.js';
import { useEdge } from './support/fixture.js';

let trunkSeq = 0;

/** REFER from the agent (blind transfer) under the outbound rules, end to end. */
describeE2E('agent transfers end to end', () => {
  const fx = useEdge();

  /** An inbound route whose number's trunk can carry transfers to GB through `targetUri`. */
  const routeWithTransfers = (agentUri: string, targetUri: string) => {
    const id = `trk-xfer-${++trunkSeq}-${Date.now()}`;
    return fx.world.route({
      agentUri,
      trunk: { id, outbound: { termination_uris: [{ uri: targetUri, priority: 10 }], allowed_countries: ['GB'] } },
      number: { trunk_id: id },
    });
  };

  it('transfers the caller to an allowed number: the target rings with our caller ID, the agent leaves', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (target) => {
      await withSippUas({ scenario: 'uas-agent-refer', calls: 1, keys: { hold: '300', transfer_to: '+442071234567' } }, async (agent) => {
        const r = await routeWithTransfers(agent.uri, `sip:${target.ip}:${target.port}`);
        const carrier = await runSippUac({
          scenario: 'uac-carrier-transferred',
          target: `127.0.0.1:${fx.drachtio.sipPort}`,
          sourceIp: r.source,
          service: r.number.phone_number,
          keys: { hold: '1500' },
          timeoutMs: 20_000,
        });
        expect(carrier.exitCode).toBe(0);
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const [invite] = receivedRequests(target.messages(), 'INVITE');
        expect(invite?.requestUri).toMatch(/^sip:\+442071234567@/);
        expect(invite?.headers.from?.[0]).toContain(`sip:${r.number.phone_number}@`);
        // the carrier hung up: the target's leg ends too
        await target.waitFor((m) => receivedRequests(m, 'BYE').length === 1, 5000);
        const agentRun = await agent.finished();
        expect(agentRun.stats?.failed ?? 0).toBe(0);
        const notifies = receivedRequests(agentRun.messages, 'NOTIFY');
        expect(notifies.map((n) => n.body.split('\r\n')[0])).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
      });
    });
  });

  it('refuses a transfer to a disallowed country and keeps the original call up', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (target) => {
      await withSippUas({ scenario: 'uas-agent-refer-refused', calls: 1, keys: { hold: '300', transfer_to: '+33142685300' } }, async (agent) => {
        const r = await routeWithTransfers(agent.uri, `sip:${target.ip}:${target.port}`);
        const carrier = await runSippUac({
          scenario: 'uac-carrier-bye-from-agent',
          target: `127.0.0.1:${fx.drachtio.sipPort}`,
          sourceIp: r.source,
          service: r.number.phone_number,
          timeoutMs: 20_000,
        });
        // the call stayed up until the agent itself hung up after the refused transfer
        expect(carrier.exitCode).toBe(0);
        expect(receivedRequests(carrier.messages, 'BYE')).toHaveLength(1);
        expect(receivedRequests(target.messages(), 'INVITE')).toHaveLength(0);
        const agentRun = await agent.finished();
        const [notify] = receivedRequests(agentRun.messages, 'NOTIFY');
        expect(notify?.body).toMatch(/^SIP\/2\.0 403 Forbidden\r\nX-Reject-Reason: country_not_allowed/);
        expect(agentRun.stats?.failed ?? 0).toBe(0);
      });
    });
  });
});
