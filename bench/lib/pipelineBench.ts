/**
 * Per-call CPU of the edge's own work, stage by stage, in this process and without SIP: the
 * policy checks, the route lookup (cache miss and hit), the limits script, the three billing
 * events, and the whole inbound pipeline, each over `calls` calls against the seeded Redis, with
 * `concurrency` calls in flight (as under load). Unlike a rate search it does not depend on what
 * else the machine runs, so it is the figure to watch when changing the hot path.
 */
import { CallLifecycle, type CallInfo } from '../../src/calls/lifecycle.js';
import { inboundPipelineDeps } from '../../src/app.js';
import { createBilling } from '../../src/billing/index.js';
import { parseConfig } from '../../src/config/load.js';
import type { TrunkRecord } from '../../src/domain/model.js';
import { RedisCallLimiter } from '../../src/limits/limiter.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { evaluateInbound } from '../../src/pipeline/inbound.js';
import { checkTrunkAuth } from '../../src/pipeline/steps/auth.js';
import { extractCaller, extractDid } from '../../src/pipeline/steps/did.js';
import { admitCall } from '../../src/pipeline/steps/limits.js';
import { checkMedia } from '../../src/pipeline/steps/media.js';
import { resolveRoute } from '../../src/pipeline/steps/route.js';
import { checkScanner } from '../../src/pipeline/steps/scanner.js';
import { identifyTrunk } from '../../src/pipeline/steps/source.js';
import { checkTransport } from '../../src/pipeline/steps/transport.js';
import type { SipRequestView } from '../../src/pipeline/types.js';
import { Catalog } from '../../src/stores/catalog.js';
import { redisKeys } from '../../src/stores/keys.js';
import { createRedis, whenReady } from '../../src/stores/redis.js';
import { RedisRouteStore, routeStoreOptions } from '../../src/stores/routeStore.js';
import { cpuSeconds } from './procStats.js';
import { CALLER, numberAt, randomIndices, seedRoutingThroughCatalog } from './seed.js';

export interface StageCost {
  readonly stage: string;
  /** CPU microseconds of this process per call (user + system) */
  readonly cpuUs: number;
  /** CPU microseconds of redis-server per call (null: its pid was not given) */
  readonly redisUs: number | null;
  readonly calls: number;
}

export interface PipelineCostResult {
  readonly stages: StageCost[];
  readonly concurrency: number;
}

/** An offer as SIPp's carrier scenario sends it: one plain RTP audio stream. */
const OFFER = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.21',
  's=-',
  'c=IN IP4 127.0.0.21',
  't=0 0',
  'm=audio 6000 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n');

export function benchInvite(e164: string, n: number, carrierIp: string): SipRequestView {
  const headers: Record<string, string> = { 'user-agent': 'SIPp carrier' };
  return {
    method: 'INVITE',
    callId: `${n}-pipeline@${carrierIp}`,
    sourceAddress: carrierIp,
    transport: 'udp',
    requestUri: `sip:${e164}@127.0.0.1:5060`,
    to: `<sip:${e164}@127.0.0.1:5060>`,
    from: `"Carrier" <sip:${CALLER}@${carrierIp}:5060>;tag=${n}SIPpTag00`,
    body: OFFER,
    contentType: 'application/sdp',
    header: (name) => headers[name.toLowerCase()],
  };
}

/** CPU of this process and of redis-server (its whole work, sockets included) over one stage. */
function cpuMeter(redisPid: number | undefined): (stage: string, calls: number) => StageCost {
  const started = process.cpuUsage();
  const redisStarted = redisPid === undefined ? null : cpuSeconds(redisPid);
  return (stage, calls) => {
    const used = process.cpuUsage(started);
    const redisNow = redisPid === undefined ? null : cpuSeconds(redisPid);
    const redisUs = redisStarted === null || redisNow === null ? null : ((redisNow - redisStarted) * 1e6) / calls;
    return { stage, cpuUs: (used.user + used.system) / calls, redisUs, calls };
  };
}

/** CPU µs per call of running `one` for every item, `concurrency` at a time. */
async function measure<T>(stage: string, items: readonly T[], concurrency: number, redisPid: number | undefined, one: (item: T) => unknown): Promise<StageCost> {
  const done = cpuMeter(redisPid);
  for (let i = 0; i < items.length; i += concurrency) {
    await Promise.all(items.slice(i, i + concurrency).map(one));
  }
  return done(stage, items.length);
}

export async function pipelineCost(o: {
  redisUrl: string;
  keyPrefix: string;
  total: number;
  calls: number;
  carrierIp: string;
  agentUri: string;
  concurrency?: number;
  /** redis-server's pid, to report its CPU per call too */
  redisPid?: number;
}): Promise<PipelineCostResult> {
  const concurrency = o.concurrency ?? 16;
  const config = parseConfig({ admin: { token: 'bench-pipeline-token-00' }, redis: { url: o.redisUrl, key_prefix: o.keyPrefix }, billing: { stream: 'bench:pipeline:billing' } });
  const keys = redisKeys(o.keyPrefix);
  const metrics = createMetrics();
  const logger = createLogger('silent');
  const redis = createRedis(config.redis, 'bench-pipeline');
  const subscriber = createRedis(config.redis, 'bench-pipeline-sub');
  const billing = createBilling({ config, metrics, logger, redis, keys, instanceId: 'bench-pipeline' });
  const limiter = new RedisCallLimiter(redis, keys, 'bench-pipeline', config.limits.workspace_default, config.limits.lease_s * 1000, metrics, logger);
  try {
    await whenReady(redis, 5_000);
    await whenReady(subscriber, 5_000);
    await seedRoutingThroughCatalog(new Catalog(redis, keys), o.carrierIp, o.agentUri);
    // the store as createApp builds it (app.ts), on this process's clients
    const store = new RedisRouteStore(redis, subscriber, keys, routeStoreOptions(config.cache), metrics, logger);
    await store.start();
    const deps = inboundPipelineDeps(config.sip, store, limiter);
    const lifecycle = new CallLifecycle((err) => {
      throw err;
    });
    lifecycle.attach(billing.listener);

    // Disjoint sets of numbers, so that every "miss" stage misses (the route cache and the
    // number-parsing memo alike); one extra set warms the JIT first.
    const indices = randomIndices(o.total, Math.min(o.total, o.calls * 4));
    const set = (k: number): SipRequestView[] =>
      indices.slice(k * o.calls, (k + 1) * o.calls).map((i, n) => benchInvite(numberAt(i), k * o.calls + n, o.carrierIp));
    const [warm, checksSet, routeSet, endToEndSet] = [set(0), set(1), set(2), set(3)];
    const trunkOf = (view: SipRequestView): TrunkRecord => {
      const found = identifyTrunk(view, store.trunks(), false);
      if (found.kind !== 'continue') throw new Error(`the bench trunk does not match ${view.sourceAddress}: ${found.reason}`);
      return found.value;
    };
    const checks = (view: SipRequestView): void => {
      const ok = (d: { kind: string }, step: string): void => {
        if (d.kind !== 'continue') throw new Error(`${step} refused a bench call`);
      };
      ok(checkScanner(view, deps.scannerPatterns), 'scanner');
      const trunk = trunkOf(view);
      ok(checkTrunkAuth(view, trunk, deps.digest), 'auth');
      ok(checkTransport(view, trunk), 'transport');
      ok(checkMedia(view, trunk), 'media');
      ok(extractDid(view, deps.defaultCountry), 'did');
      extractCaller(view, deps.defaultCountry);
    };
    const route = async (view: SipRequestView) => {
      const did = extractDid(view, deps.defaultCountry);
      if (did.kind !== 'continue') throw new Error('did refused a bench call');
      const found = await resolveRoute(trunkOf(view), did.value, store);
      if (found.kind !== 'continue') throw new Error(`route refused a bench call: ${found.reason}`);
      return found.value;
    };
    const trunk = trunkOf(warm[0]!);
    const callInfo = (view: SipRequestView): CallInfo => ({
      callId: view.callId,
      direction: 'inbound',
      workspaceId: 'bench-ws-1',
      trunkId: trunk.id,
      trunkKind: trunk.kind,
      numberId: 'bench-num-1',
      telephony: 'managed',
      agentId: 'bench-agent-1',
      from: CALLER,
      to: numberAt(0),
      browserTest: false,
      startedAt: Date.now(),
    });

    // warm-up: every code path once per warm call
    for (const view of warm.slice(0, 2_000)) {
      checks(view);
      const outcome = await evaluateInbound(view, deps);
      if (outcome.kind === 'accept') outcome.lease?.release();
    }

    const stages: StageCost[] = [];
    stages.push(await measure('policy checks: scanner, source, auth, transport, SDP, called and calling number', checksSet, 1, o.redisPid, checks));
    stages.push(await measure('route lookup, cache miss (Redis GET)', routeSet, concurrency, o.redisPid, route));
    stages.push(await measure('route lookup, cache hit', routeSet, concurrency, o.redisPid, route));
    stages.push(
      await measure('limits: admission script and release', routeSet, concurrency, o.redisPid, async (view) => {
        const admitted = await admitCall(trunk, 'bench-ws-1', view.callId, limiter);
        if (admitted.kind !== 'continue') throw new Error(`limits refused a bench call: ${admitted.reason}`);
        admitted.value.release();
      }),
    );
    const billingDone = cpuMeter(o.redisPid);
    for (let i = 0; i < routeSet.length; i++) {
      const info = callInfo(routeSet[i]!);
      lifecycle.started(info);
      lifecycle.answered(info, info.startedAt + 1_000);
      lifecycle.ended(info, { endedAt: info.startedAt + 3_000, durationMs: 2_000, cause: 'caller_hangup', answered: true });
      // calls arrive over time: the sink batches what comes within its linger
      if (i % concurrency === concurrency - 1) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (!(await billing.flush(30_000))) throw new Error('billing events did not reach Redis');
    stages.push(billingDone('billing: call.started, call.answered, call.ended', routeSet.length));
    stages.push(
      await measure('whole inbound pipeline (evaluateInbound, cache miss) and release', endToEndSet, concurrency, o.redisPid, async (view) => {
        const outcome = await evaluateInbound(view, deps);
        if (outcome.kind !== 'accept') throw new Error(`the pipeline refused a bench call: ${outcome.reason}`);
        outcome.lease?.release();
      }),
    );
    return { stages, concurrency };
  } finally {
    await limiter.stop();
    await billing.stop();
    redis.disconnect();
    subscriber.disconnect();
  }
}

export function formatPipelineCost(r: PipelineCostResult): string {
  const redis = (s: StageCost): string => (s.redisUs === null ? '' : ` + redis ${s.redisUs.toFixed(1).padStart(6)} us`);
  return r.stages.map((s) => `${s.cpuUs.toFixed(1).padStart(7)} us${redis(s)}  ${s.stage}`).join('\n');
}
