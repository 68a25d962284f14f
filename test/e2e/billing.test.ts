import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeE2E, startDrachtio, type DrachtioServer } from '../helpers/drachtioServer.js';
import { finalResponse, header, runSippUac, sentRequests, withSippUas } from '../helpers/sipp.js';
import { ofCall, readBillingEvents } from './support/billingStream.js';
import { useEdge } from './support/fixture.js';
import { spawnEdge } from './support/edgeProcess.js';
import { freshNumber, freshSource } from './support/world.js';

const callIdOf = (messages: Parameters<typeof sentRequests>[0]): string => header(sentRequests(messages, 'INVITE')[0], 'Call-ID') ?? '';

/** BRIEF "Billing events": first-minute rule, no charge without answer, exactly once across kill -9. */
describeE2E('billing events end to end', () => {
  describe('one edge', () => {
    const fx = useEdge();

    const events = async (callId: string) => {
      return ofCall(await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix), callId);
    };

    it.each([
      ['managed number: the first minute is charged', 'managed', 60],
      ['BYOC trunk: actual duration', 'byoc', 3],
    ] as const)('a 3 s answered call on a %s', async (_what, kind, billable) => {
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
        const r = await fx.world.route({ agentUri: agent.uri, trunk: { kind } });
        const carrier = await runSippUac({ scenario: 'uac-carrier-answered', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number, keys: { hold: '2800' } });
        expect(finalResponse(carrier.messages)?.status).toBe(200);
        const callId = callIdOf(carrier.messages);
        await expect.poll(async () => (await events(callId)).map((e) => e.type), { timeout: 3000 }).toEqual(['call.started', 'call.answered', 'call.ended']);
        const [, answered, ended] = await events(callId);
        expect(answered?.billable_s).toBe(kind === 'managed' ? 60 : 1);
        expect(ended?.billable_s).toBe(billable);
        expect(ended?.duration_ms).toBeGreaterThanOrEqual(2800);
        expect(ended?.duration_ms).toBeLessThan(3000);
        expect(new Set((await events(callId)).map((e) => e.idempotency_key)).size).toBe(3);
      });
    });

    it('charges nothing for an unanswered, a cancelled or a rejected call', async () => {
      const target = `127.0.0.1:${fx.drachtio.sipPort}`;
      await withSippUas({ scenario: 'uas-agent-busy' }, async (busy) => {
        const r = await fx.world.route({ agentUri: busy.uri });
        const unanswered = await runSippUac({ scenario: 'uac-carrier-486', target, sourceIp: r.source, service: r.number.phone_number });
        const id = callIdOf(unanswered.messages);
        await expect.poll(async () => (await events(id)).map((e) => e.type), { timeout: 3000 }).toEqual(['call.started', 'call.ended']);
        expect((await events(id))[1]).toMatchObject({ billable_s: 0, status: 'unanswered', sip_status: 486 });
      });
      await withSippUas({ scenario: 'uas-agent-noanswer' }, async (ringing) => {
        const r = await fx.world.route({ agentUri: ringing.uri });
        const cancelled = await runSippUac({ scenario: 'uac-carrier-cancel', target, sourceIp: r.source, service: r.number.phone_number });
        const id = callIdOf(cancelled.messages);
        await expect.poll(async () => (await events(id)).map((e) => e.type), { timeout: 3000 }).toEqual(['call.started', 'call.ended']);
        expect((await events(id))[1]).toMatchObject({ billable_s: 0, end_cause: 'cancelled' });
      });
      const r = await fx.world.route({ agentUri: 'sip:agent@127.0.0.1:9' });
      const rejected = await runSippUac({ scenario: 'uac-carrier-404', target, sourceIp: r.source, service: freshNumber() });
      const id = callIdOf(rejected.messages);
      await expect.poll(async () => (await events(id)).map((e) => e.type), { timeout: 3000 }).toEqual(['call.rejected']);
      expect((await events(id))[0]).toMatchObject({ billable_s: 0, reason: 'number_not_found' });
    });
  });

  describe('kill -9 during calls', () => {
    let drachtio: DrachtioServer;
    beforeAll(async () => {
      drachtio = await startDrachtio();
    });
    afterAll(async () => {
      await drachtio?.stop();
    });

    it('closes every answered call exactly once after a restart, with cause edge_restart', async () => {
      const redisUrl = inject('redisUrl');
      const extra = { billing: { heartbeat_interval_s: 1, liveness_ttl_s: 2 }, key_prefix: `test:kill9:${Date.now()}:` };
      const env = { INSTANCE_ID: `kill9-${Date.now()}` };
      let edge = await spawnEdge(drachtio, redisUrl, extra, env);
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
        const source = freshSource();
        const trunk = await edge.api('/v1/trunks', { body: { name: 'k', kind: 'managed', inbound: { allowed_cidrs: [`${source}/32`] } } });
        const ag = await edge.api('/v1/agents', { body: { workspace_id: 'ws_1', name: 'a', sip_uri: agent.uri } });
        const phone = freshNumber();
        await edge.api('/v1/phone-numbers', { body: { phone_number: phone, workspace_id: 'ws_1', telephony: 'managed', trunk_id: trunk.body.id, inbound_routing: { agent_id: ag.body.id } } });
        await expect.poll(async () => (await edge.api('/v1/route-test', { body: { source_ip: source, request_uri: `sip:${phone}@x` } })).body.decision).toBe('accept');

        const calls = runSippUac({ scenario: 'uac-carrier-answered', target: `127.0.0.1:${drachtio.sipPort}`, sourceIp: source, service: phone, calls: 3, rate: 10, limit: 3, keys: { hold: '6000' }, timeoutMs: 20_000 });
        await expect.poll(async () => (await edge.api('/v1/calls')).body.data.filter((c: { state: string }) => c.state === 'answered').length, { timeout: 5000 }).toBe(3);
        await new Promise((r) => setTimeout(r, 1500)); // let the calls run (and heartbeat) before the crash
        edge.kill('SIGKILL');
        await edge.exit;

        edge = await spawnEdge(drachtio, redisUrl, extra, env);
        const all = async () => readBillingEvents(redisUrl, extra.key_prefix);
        await expect.poll(async () => (await all()).filter((e) => e.type === 'call.ended').length, { timeout: 10_000 }).toBe(3);
        await calls; // the carriers' BYEs now reach an edge that no longer knows these calls
        await new Promise((r) => setTimeout(r, 1000)); // nothing more may arrive: a late duplicate would show here
        const events = await all();
        const answered = events.filter((e) => e.type === 'call.answered');
        const ended = events.filter((e) => e.type === 'call.ended');
        expect(answered).toHaveLength(3);
        expect(ended).toHaveLength(3);
        expect(new Set(ended.map((e) => e.call_id))).toEqual(new Set(answered.map((e) => e.call_id)));
        for (const e of ended) {
          expect(e.end_cause).toBe('edge_restart');
          expect(e.billable_s).toBe(60);
          expect(e.duration_ms).toBeGreaterThan(0);
        }
      });
      edge.kill('SIGTERM');
      await edge.exit;
    });
  });
});
