import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parseDigest } from '../../src/domain/digest.js';
import { describeE2E } from '../helpers/drachtioServer.js';
import { finalResponse, header, receivedRequests, runSippUac, sentResponses, withSippUas, type SipMessage } from '../helpers/sipp.js';
import { ofCall, readBillingEvents } from './support/billingStream.js';
import { startCallbackReceiver, type ReceivedCallback } from './support/callbackReceiver.js';
import { useEdge } from './support/fixture.js';

const SECRET = 'e2e-callback-secret-0123456789abcdef';
const AGENTS = '127.0.6.0/24';
let nextWorkspace = 1;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** The receiver's check, written here from the README's recipe rather than with the edge's own code. */
function signatureValid(cb: ReceivedCallback): boolean {
  const timestamp = String(cb.headers['x-sip-edge-timestamp']);
  const expected = `v1=${createHmac('sha256', SECRET).update(`${timestamp}.${cb.raw}`).digest('hex')}`;
  return cb.headers['x-sip-edge-signature'] === expected && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
}

const statesOf = (received: readonly ReceivedCallback[]) => received.filter((r) => r.status === 200).map((r) => r.json.state as string);
const sdpOrigin = (m: SipMessage | undefined): string | undefined => /^o=(\S+)/m.exec(m?.body ?? '')?.[1];

/** BRIEF "API-placed calls and do-not-call lists": POST /v1/calls dials the PSTN (SIPp), then the agent (SIPp), end to end. */
describeE2E('calls placed through the API end to end', () => {
  const fx = useEdge({
    sip: { agent_cidrs: [AGENTS], ring_timeout_s: 3 },
    callbacks: { secret: SECRET, retry_min_ms: 50, retry_max_ms: 200 },
    api_calls: { agent_ring_timeout_s: 2 },
  });
  let rx: Awaited<ReturnType<typeof startCallbackReceiver>>;
  beforeAll(async () => {
    rx = await startCallbackReceiver();
  });
  afterAll(async () => {
    await rx?.close();
  });

  /** A managed trunk towards the carriers, an agent and a caller ID number of a fresh workspace. */
  async function setup(terminations: { uri: string; priority: number }[], agentUri: string, outbound: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
    const workspace = `ws_api_${nextWorkspace++}`;
    const trunk = await fx.world.trunk({ kind: 'managed', inbound: { allowed_cidrs: [] }, outbound: { termination_uris: terminations, allowed_countries: ['GB', 'US'], ...outbound }, limits });
    const agent = await fx.world.agent(agentUri, { workspace_id: workspace });
    const caller = await fx.world.number({ workspace_id: workspace, trunk_id: trunk.id, agent_id: agent.id });
    const body = (o: Record<string, unknown> = {}) => ({ workspace_id: workspace, from_number: caller.phone_number, to_number: '+442071234567', agent_id: agent.id, ...o });
    return { workspace, trunk, agent, caller, body };
  }

  const place = (body: unknown, idempotencyKey?: string) =>
    fetch(`${fx.edge.adminUrl}/v1/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.edge.token}`, 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, headers: res.headers, body: (await res.json()) as any }));
  const get = async (id: string) => (await fx.edge.api(`/v1/calls/${id}`)).body;
  const billing = async (id: string) => ofCall(await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix), id);

  it('dials the destination, then the agent with its headers and the destination offer; states and signed callbacks in order; billed from the answer', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (carrier) => {
      await withSippUas({ scenario: 'uas-agent-checks-api-headers', keys: { hold: '1500' } }, async (agentUas) => {
        const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], agentUas.uri);
        const res = await place(s.body({ metadata: { campaign: 'spring-24' }, status_callback: `${rx.url}/hooks/answered` }));
        expect(res.status).toBe(201);
        expect(res.body.state).toBe('queued');
        const id = res.body.id as string;
        const mine = () => rx.received.filter((r) => r.path === '/hooks/answered');

        await expect.poll(() => statesOf(mine()), { timeout: 15_000 }).toEqual(['queued', 'dialing', 'ringing', 'answered', 'completed']);
        expect(mine().every(signatureValid)).toBe(true);
        expect(mine().map((r) => r.json.sequence)).toEqual([1, 2, 3, 4, 5]);
        expect(mine().map((r) => r.headers['x-sip-edge-event-id'])).toEqual([1, 2, 3, 4, 5].map((n) => `${id}:${n}`));
        expect(mine()[4]!.json.call).toMatchObject({ id, state: 'completed', end_reason: 'agent_hangup' });

        const record = await get(id);
        expect(record).toMatchObject({ state: 'completed', end_reason: 'agent_hangup', sip_status: 200, agent_sip_status: 200, to_number: '+442071234567', from_number: s.caller.phone_number });
        const stamps = ['created_at', 'dialing_at', 'ringing_at', 'answered_at', 'agent_answered_at', 'ended_at'].map((k) => Date.parse(record[k]));
        expect(stamps.every((t, i) => Number.isFinite(t) && (i === 0 || t >= stamps[i - 1]!))).toBe(true);

        // the destination leg: a late offer (no SDP) to the E.164 through the trunk, no X- header; the agent's answer in the ACK
        const [toCarrier] = receivedRequests(carrier.messages(), 'INVITE');
        expect(toCarrier?.requestUri).toMatch(/^sip:\+442071234567@127\.0\.0\.1:\d+/);
        expect(toCarrier?.body.trim()).toBe('');
        expect(header(toCarrier, 'From')).toContain(`sip:${s.caller.phone_number}@`);
        expect(Object.keys(toCarrier?.headers ?? {}).filter((h) => h.startsWith('x-'))).toEqual([]);
        expect(sdpOrigin(receivedRequests(carrier.messages(), 'ACK')[0])).toBe('agent');
        expect(receivedRequests(carrier.messages(), 'BYE')).toHaveLength(1);

        // the agent leg: the destination's offer, the headers of an API call
        const [toAgent] = receivedRequests(agentUas.messages(), 'INVITE');
        expect(sdpOrigin(toAgent)).toBe('carrier');
        expect(header(toAgent, 'X-Workspace-Id')).toBe(s.workspace);
        expect(header(toAgent, 'X-Agent-Id')).toBe(s.agent.id);
        expect(header(toAgent, 'X-Number-Id')).toBe(s.caller.id);
        expect(header(toAgent, 'X-Call-Id')).toBe(id);
        expect(header(toAgent, 'X-Direction')).toBe('outbound-api');
        expect(header(toAgent, 'X-Meta-campaign')).toBe('spring-24');
        const agentRun = await agentUas.stop();
        expect(agentRun.stats?.failed).toBe(0);
        expect(agentRun.errors).not.toMatch(/regexp/i);

        // billing: as any outbound call on a managed number, from the destination's answer
        await expect.poll(async () => (await billing(id)).map((e) => e.type), { timeout: 3000 }).toEqual(['call.started', 'call.answered', 'call.ended']);
        const [started, answered, ended] = await billing(id);
        expect(started).toMatchObject({ direction: 'outbound', workspace_id: s.workspace, number_id: s.caller.id, agent_id: s.agent.id });
        expect(answered?.billable_s).toBe(60);
        expect(ended).toMatchObject({ billable_s: 60, end_cause: 'caller_hangup' });
        // from the destination's answer: the agent's ring and the 1.5 s hold
        expect(ended?.duration_ms).toBeGreaterThanOrEqual(1500);
        expect(ended?.duration_ms).toBeLessThan(4000);
      });
    });
  });

  it('DELETE hangs up both legs of a bridged call', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (carrier) => {
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agentUas) => {
        const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], agentUas.uri);
        const { body } = await place(s.body({ status_callback: `${rx.url}/hooks/delete` }));
        await expect.poll(async () => (await get(body.id)).agent_answered_at, { timeout: 10_000 }).not.toBeNull();
        const del = await fx.edge.api(`/v1/calls/${body.id}`, { method: 'DELETE' });
        expect(del.status).toBe(200);
        expect(del.body).toMatchObject({ state: 'completed', end_reason: 'api_hangup' });
        await carrier.waitFor((m) => sentResponses(m, 'BYE').length === 1);
        await agentUas.waitFor((m) => sentResponses(m, 'BYE').length === 1);
        expect(fx.edge.app.activeCalls.list().map((c) => c.info.callId)).not.toContain(body.id);
        await expect.poll(() => statesOf(rx.received.filter((r) => r.path === '/hooks/delete')), { timeout: 5000 }).toEqual(['queued', 'dialing', 'ringing', 'answered', 'completed']);
      });
    });
  });

  it('fails over from a 503 termination to one that demands digest credentials, then bridges', async () => {
    await withSippUas({ scenario: 'uas-carrier-503' }, async (down) => {
      await withSippUas({ scenario: 'uas-carrier-407' }, async (carrier) => {
        await withSippUas({ scenario: 'uas-agent-answer' }, async (agentUas) => {
          const s = await setup(
            [
              { uri: `sip:${carrier.ip}:${carrier.port}`, priority: 20 },
              { uri: `sip:${down.ip}:${down.port}`, priority: 10 },
            ],
            agentUas.uri,
            { auth_username: 'edge-user', auth_password: 'edge-secret-1' },
          );
          const { body } = await place(s.body({ to_number: '+12025550123' }));
          await expect.poll(async () => (await get(body.id)).agent_answered_at, { timeout: 10_000 }).not.toBeNull();
          expect(receivedRequests(down.messages(), 'INVITE')).toHaveLength(1);
          const invites = receivedRequests(carrier.messages(), 'INVITE');
          expect(invites).toHaveLength(2);
          const auth = parseDigest(header(invites[1], 'Proxy-Authorization'));
          expect(auth?.username).toBe('edge-user');
          const ha1 = md5('edge-user:carrier.example:edge-secret-1');
          expect(auth?.response).toBe(md5(`${ha1}:${auth?.nonce}:${md5(`INVITE:${auth?.uri}`)}`));
          expect((await fx.edge.api(`/v1/calls/${body.id}`, { method: 'DELETE' })).body.end_reason).toBe('api_hangup');
          await carrier.waitFor((m) => sentResponses(m, 'BYE').length === 1);
        });
      });
    });
  });

  it('a destination that is busy fails the call (486, busy); the agent is never called', async () => {
    await withSippUas({ scenario: 'uas-agent-busy' }, async (carrier) => {
      await withSippUas({ scenario: 'uas-agent-answer' }, async (agentUas) => {
        const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], agentUas.uri);
        const { body } = await place(s.body());
        await expect.poll(async () => (await get(body.id)).state, { timeout: 10_000 }).toBe('failed');
        expect(await get(body.id)).toMatchObject({ end_reason: 'busy', sip_status: 486, answered_at: null });
        expect(receivedRequests(agentUas.messages(), 'INVITE')).toHaveLength(0);
        await expect.poll(async () => (await billing(body.id)).map((e) => e.type), { timeout: 3000 }).toEqual(['call.started', 'call.ended']);
        expect((await billing(body.id))[1]).toMatchObject({ billable_s: 0, sip_status: 486 });
      });
    });
  });

  it('an agent that does not answer within its ring timeout ends the destination leg', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (carrier) => {
      await withSippUas({ scenario: 'uas-agent-noanswer' }, async (agentUas) => {
        const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], agentUas.uri);
        const { body } = await place(s.body());
        await expect.poll(async () => (await get(body.id)).state, { timeout: 10_000 }).toBe('completed');
        expect(await get(body.id)).toMatchObject({ end_reason: 'agent_no_answer', agent_sip_status: 480, agent_answered_at: null });
        expect(receivedRequests(agentUas.messages(), 'CANCEL')).toHaveLength(1);
        // the destination's 200 is acknowledged (with its own offer back) and hung up at once
        await carrier.waitFor((m) => receivedRequests(m, 'ACK').length === 1 && sentResponses(m, 'BYE').length === 1);
      });
    });
  });

  it('a receiver that fails gets each event again, signed, and still in order', async () => {
    const flaky = await startCallbackReceiver([503, 200, 500]);
    try {
      await withSippUas({ scenario: 'uas-agent-busy' }, async (carrier) => {
        const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], 'sip:agent@127.0.0.1:9');
        const { body } = await place(s.body({ status_callback: `${flaky.url}/hooks/flaky` }));
        await expect.poll(() => statesOf(flaky.received), { timeout: 10_000 }).toEqual(['queued', 'dialing', 'failed']);
        // attempts as the receiver saw them: queued refused once, dialing delivered, failed refused once
        expect(flaky.received.map((r) => [r.json.state, r.status])).toEqual([
          ['queued', 503],
          ['queued', 200],
          ['dialing', 500],
          ['dialing', 200],
          ['failed', 200],
        ]);
        expect(flaky.received.every(signatureValid)).toBe(true);
        expect(new Set(flaky.received.map((r) => r.headers['x-sip-edge-event-id']))).toEqual(new Set([1, 2, 3].map((n) => `${body.id}:${n}`)));
      });
    } finally {
      await flaky.close();
    }
  });

  it('a repeated Idempotency-Key dials once', async () => {
    await withSippUas({ scenario: 'uas-agent-busy' }, async (carrier) => {
      const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], 'sip:agent@127.0.0.1:9');
      const first = await place(s.body(), 'campaign-7-lead-19');
      const second = await place(s.body(), 'campaign-7-lead-19');
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.body.id).toBe(first.body.id);
      await expect.poll(async () => (await get(first.body.id)).state, { timeout: 10_000 }).toBe('failed');
      // after the call ended too: the same call, no new INVITE
      const third = await place(s.body(), 'campaign-7-lead-19');
      expect(third.body).toMatchObject({ id: first.body.id, state: 'failed' });
      await new Promise((r) => setTimeout(r, 300));
      expect(receivedRequests(carrier.messages(), 'INVITE')).toHaveLength(1);
    });
  });

  it('limits give 429 with Retry-After; DELETE cancels the ringing destination', async () => {
    await withSippUas({ scenario: 'uas-agent-noanswer' }, async (carrier) => {
      const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], 'sip:agent@127.0.0.1:9', {}, { max_concurrent_calls: 1 });
      const first = await place(s.body());
      expect(first.status).toBe(201);
      const second = await place(s.body({ to_number: '+12025550124' }));
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe(String(fx.edge.config.sip.retry_after_s));
      expect(second.body.error.code).toBe('limit_trunk_calls');
      await expect.poll(async () => (await get(first.body.id)).state, { timeout: 5000 }).toBe('ringing');
      const del = await fx.edge.api(`/v1/calls/${first.body.id}`, { method: 'DELETE' });
      expect(del.body).toMatchObject({ state: 'failed', end_reason: 'cancelled' });
      await carrier.waitFor((m) => receivedRequests(m, 'CANCEL').length === 1);
      expect(receivedRequests(carrier.messages(), 'INVITE')).toHaveLength(1);
    });
  });

  it('refuses a number on a do-not-call list with no INVITE at the carrier: API call and agent INVITE', async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (carrier) => {
      const s = await setup([{ uri: `sip:${carrier.ip}:${carrier.port}`, priority: 10 }], 'sip:agent@127.0.0.1:9');
      expect((await fx.edge.api(`/v1/workspaces/${s.workspace}/dnc`, { body: { phone_number: '+44 20 7123 4567', reason: 'asked' } })).status).toBe(201);
      const api = await place(s.body());
      expect(api.status).toBe(403);
      expect(api.body.error).toMatchObject({ code: 'destination_opted_out', details: { sip_status: 403 } });

      // the platform's list, for an agent's own INVITE
      expect((await fx.edge.api('/v1/dnc', { body: { phone_number: '+12025550125' } })).status).toBe(201);
      for (const destination of ['+442071234567', '+12025550125']) {
        const sip = await runSippUac({
          scenario: 'uac-agent-403',
          target: `127.0.0.1:${fx.drachtio.sipPort}`,
          sourceIp: '127.0.6.10',
          service: destination,
          keys: { caller: s.caller.phone_number, agent_id: s.agent.id },
          timeoutMs: 10_000,
        });
        const final = finalResponse(sip.messages);
        expect(final?.status).toBe(403);
        expect(header(final, 'X-Reject-Reason')).toBe('destination_opted_out');
      }
      expect(receivedRequests(carrier.messages(), 'INVITE')).toHaveLength(0);
      // taken off the list, the same call goes out
      expect((await fx.edge.api(`/v1/workspaces/${s.workspace}/dnc/+442071234567`, { method: 'DELETE' })).status).toBe(204);
      const again = await place(s.body());
      expect(again.status).toBe(201);
      await carrier.waitFor((m) => receivedRequests(m, 'INVITE').length === 1);
      await fx.edge.api(`/v1/calls/${again.body.id}`, { method: 'DELETE' });
    });
  });

  it("refuses an agent's transfer to a number on the do-not-call list: NOTIFY 403 destination_opted_out, no INVITE, the call stays up", async () => {
    await withSippUas({ scenario: 'uas-carrier-answer' }, async (target) => {
      await withSippUas({ scenario: 'uas-agent-refer-refused', calls: 1, keys: { hold: '300', transfer_to: '+442071234599' } }, async (agentUas) => {
        const trunkId = `trk-dnc-xfer-${Date.now()}`;
        const r = await fx.world.route({
          agentUri: agentUas.uri,
          trunk: { id: trunkId, outbound: { termination_uris: [{ uri: `sip:${target.ip}:${target.port}`, priority: 10 }], allowed_countries: ['GB'] } },
          number: { trunk_id: trunkId },
        });
        expect((await fx.edge.api(`/v1/workspaces/${r.number.workspace_id}/dnc`, { body: { phone_number: '+442071234599' } })).status).toBe(201);
        const carrier = await runSippUac({ scenario: 'uac-carrier-bye-from-agent', target: `127.0.0.1:${fx.drachtio.sipPort}`, sourceIp: r.source, service: r.number.phone_number, timeoutMs: 20_000 });
        expect(carrier.exitCode).toBe(0);
        expect(receivedRequests(target.messages(), 'INVITE')).toHaveLength(0);
        const agentRun = await agentUas.finished();
        const [notify] = receivedRequests(agentRun.messages, 'NOTIFY');
        expect(notify?.body).toMatch(/^SIP\/2\.0 403 Forbidden\r\nX-Reject-Reason: destination_opted_out/);
      });
    });
  });
});
