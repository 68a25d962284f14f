import { expect, inject, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { runSippUac, sentRequests, header, withSippUas } from '../../helpers/sipp.js';
import { readBillingEvents, type BillingEvent } from '../support/billingStream.js';
import { callOverTcp } from '../support/tcpCaller.js';
import { useEdge } from '../support/fixture.js';

/**
 * Issue 12.3: a caller that hangs up the instant the call is answered (BYE right behind the ACK)
 * must never leave a phantom call: no active call, no held slot, one answered + one ended event
 * per answered call with its real (near-zero) duration.
 */
describeE2E('hostile: BYE right after the ACK', () => {
  const fx = useEdge({ sip: { ring_timeout_s: 5 } });

  it.each([
    ['early offer', 'uac-carrier-answered'],
    ['late offer', 'uac-carrier-late-offer-answered'],
  ])('leaves no phantom call after 200 %s calls hung up at once', async (_what, scenario) => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      // the trunk holds at most 5 calls: a single leaked slot would refuse calls below
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { kind: 'managed', limits: { max_concurrent_calls: 50 } } });
      const carrier = await runSippUac({
        scenario,
        target: `127.0.0.1:${fx.drachtio.sipPort}`,
        sourceIp: r.source,
        service: r.number.phone_number,
        keys: { hold: '0' },
        transport: 't1',
        calls: 200,
        rate: 100,
        limit: 30,
        timeoutMs: 40_000,
      });
      const callIds = new Set(sentRequests(carrier.messages, 'INVITE').map((m) => header(m, 'Call-ID') ?? ''));
      expect(callIds.size).toBe(200);
      expect(carrier.stats?.failed).toBe(0);

      // no call stays up at the edge
      await expect.poll(() => fx.edge.app.activeCalls.size, { timeout: 5000 }).toBe(0);

      // exactly one answered + one ended per call, with a real duration
      let events: BillingEvent[] = [];
      await expect
        .poll(async () => {
          events = (await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix)).filter((e) => callIds.has(e.call_id));
          return events.filter((e) => e.type === 'call.ended').length;
        }, { timeout: 5000 })
        .toBe(200);
      for (const id of callIds) {
        const mine = events.filter((e) => e.call_id === id);
        expect(mine.filter((e) => e.type === 'call.answered'), id).toHaveLength(1);
        const ended = mine.filter((e) => e.type === 'call.ended');
        expect(ended, id).toHaveLength(1);
        expect(ended[0]!.end_cause, id).toBe('caller_hangup');
        expect(ended[0]!.duration_ms!, id).toBeLessThan(2000);
        expect(ended[0]!.billable_s, id).toBe(60); // managed: the first minute, no more
      }

      // every slot was given back: five calls at once all get through
      const after = await runSippUac({
        scenario: 'uac-carrier-answered',
        target: `127.0.0.1:${fx.drachtio.sipPort}`,
        sourceIp: r.source,
        service: r.number.phone_number,
        keys: { hold: '1000' },
        calls: 5,
        rate: 50,
        limit: 5,
      });
      expect(after.stats?.successful).toBe(5);
    });
  });
});

describeE2E('hostile: ACK and BYE in one TCP segment', () => {
  const fx = useEdge({ sip: { ring_timeout_s: 5 } });

  it.each([
    ['early offer', true],
    ['late offer', false],
  ])('leaves no phantom call (%s, 200 calls, 10 at a time)', async (_what, earlyOffer) => {
    await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const r = await fx.world.route({ agentUri: agent.uri, trunk: { kind: 'managed', limits: { max_concurrent_calls: 40 } } });
      const callIds: string[] = [];
      const one = async (): Promise<void> => {
        const result = await callOverTcp(fx.drachtio, r.source, r.number.phone_number, {
          ...(earlyOffer ? {} : { sdp: undefined }),
          byeWithAck: true,
        });
        expect(result.status, `round ${round}: ${result.headers['x-reject-reason']?.[0]}`).toBe(200);
        expect(result.byeResponse?.status, `round ${round}: BYE`).toBe(200);
        callIds.push(result.callId);
      };
      let round = 0;
      for (; round < 20; round++) await Promise.all(Array.from({ length: 10 }, one));
      await expect.poll(() => fx.edge.app.activeCalls.size, { timeout: 5000 }).toBe(0);
      const ids = new Set(callIds);
      await expect
        .poll(async () => (await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix)).filter((e) => ids.has(e.call_id) && e.type === 'call.ended').length, { timeout: 5000 })
        .toBe(200);
      // every slot was given back: the trunk's 40 slots are all free
      const after = await runSippUac({ scenario: 'uac-carrier-answered', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number, keys: { hold: '1500' }, calls: 40, rate: 200, limit: 40 });
      expect(after.stats?.successful).toBe(40);
    });
  });
});
