import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeE2E, startDrachtio, type DrachtioServer } from '../helpers/drachtioServer.js';
import { testPrefix } from '../helpers/fixtures.js';
import { runSippUac, withSippUas } from '../helpers/sipp.js';
import { readBillingEvents } from './support/billingStream.js';
import { spawnEdge, type EdgeProcess } from './support/edgeProcess.js';
import { freshNumber, freshSource } from './support/world.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two edge processes connected to ONE drachtio-server (inbound mode): drachtio hands new INVITEs to
 * its apps in turn. SIGTERM one of them under live traffic (20 calls/s for 8 s, 2 s calls).
 */
describeE2E('draining one of two instances that share a drachtio-server', () => {
  let drachtio: DrachtioServer;
  let edges: EdgeProcess[] = [];
  beforeAll(async () => {
    drachtio = await startDrachtio();
  });
  afterEach(() => {
    edges.forEach((e) => e.kill('SIGKILL'));
    edges = [];
  });
  afterAll(async () => {
    await drachtio?.stop();
  });

  async function twoEdges(handoff: boolean): Promise<{ a: EdgeProcess; b: EdgeProcess; prefix: string }> {
    const prefix = testPrefix();
    const common = { key_prefix: prefix, log_level: 'warn', shutdown: { drain_timeout_s: 15, handoff_new_calls: handoff } };
    const a = await spawnEdge(drachtio, inject('redisUrl'), { ...common, instance_id: 'edge-a' });
    edges.push(a);
    const b = await spawnEdge(drachtio, inject('redisUrl'), { ...common, instance_id: 'edge-b' });
    edges.push(b);
    return { a, b, prefix };
  }

  async function seed(a: EdgeProcess, b: EdgeProcess, agentUri: string): Promise<{ source: string; phone: string }> {
    const source = freshSource();
    const trunk = await a.api('/v1/trunks', { body: { name: 'drain', kind: 'managed', inbound: { allowed_cidrs: [`${source}/32`] } } });
    expect(trunk.status).toBe(201);
    const agent = await a.api('/v1/agents', { body: { workspace_id: 'ws_1', name: 'a', sip_uri: agentUri } });
    const phone = freshNumber();
    const num = await a.api('/v1/phone-numbers', { body: { phone_number: phone, workspace_id: 'ws_1', telephony: 'managed', inbound_routing: { agent_id: agent.body.id } } });
    expect(num.status).toBe(201);
    for (const edge of [a, b]) {
      await expect.poll(async () => (await edge.api('/v1/route-test', { body: { source_ip: source, request_uri: `sip:${phone}@x` } })).body.decision).toBe('accept');
    }
    return { source, phone };
  }

  async function drainUnderLoad(handoff: boolean) {
    const { a, b, prefix } = await twoEdges(handoff);
    return withSippUas({ scenario: 'uas-agent-answer' }, async (agent) => {
      const { source, phone } = await seed(a, b, agent.uri);
      const load = runSippUac({
        scenario: 'uac-carrier-answered',
        target: `127.0.0.1:${drachtio.sipPort}`,
        sourceIp: source,
        service: phone,
        calls: 160,
        rate: 20,
        keys: { hold: '2000' },
        timeoutMs: 40_000,
      });
      await sleep(2000);
      a.kill('SIGTERM');
      const result = await load;
      const exit = await a.exit;
      const events = await readBillingEvents(inject('redisUrl'), prefix);
      return { result, exit, events, b };
    });
  }

  it('refuses no new call: the draining instance stops getting INVITEs, its own calls end normally, it exits 0', async () => {
    const { result, exit, events } = await drainUnderLoad(true);
    expect(result.stats?.created).toBe(160);
    expect(result.stats?.failed).toBe(0);
    expect(result.stats?.successful).toBe(160);
    expect(exit.code).toBe(0);
    const started = events.filter((e) => e.type === 'call.started');
    const by = (id: string) => started.filter((e) => e.instance_id === id).length;
    // a carried calls before the drain (and ended them: BYE reached it in its dialogs); b took the rest.
    expect(by('edge-a')).toBeGreaterThan(10);
    expect(by('edge-b')).toBeGreaterThan(80);
    expect(by('edge-a') + by('edge-b')).toBe(160);
    expect(events.filter((e) => e.type === 'call.ended' && e.end_cause !== 'caller_hangup')).toEqual([]);
    // Billing exactly once across both: one call.answered and one call.ended per call.
    for (const type of ['call.answered', 'call.ended']) {
      const ids = events.filter((e) => e.type === type).map((e) => e.call_id);
      expect(ids).toHaveLength(160);
      expect(new Set(ids).size).toBe(160);
    }

  }, 90_000);

  it('without the hand-off (shutdown.handoff_new_calls: false) drachtio keeps sending every second INVITE to the draining one', async () => {
    const { result } = await drainUnderLoad(false);
    expect(result.stats?.created).toBe(160);
    // Every second INVITE goes to the draining instance until its last call (2 s) ended and it
    // exited: at 20 calls/s, ~20 refused (measured 20); longer calls refuse for longer.
    expect(result.stats?.failed).toBeGreaterThan(10);
  }, 90_000);
});
