import Srf from 'drachtio-srf';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { createAdminServer } from './admin/server.js';
import { registerRouteTest } from './admin/routes/routeTest.js';
import { registerTestCallPage, TEST_CALL_PAGE_PATHS } from './admin/routes/testCallPage.js';
import { registerTestCalls } from './admin/routes/testCalls.js';
import { createTestCallEntry, RedisTestCallTokenStore } from './browser/index.js';
import { ActiveCalls } from './calls/activeCalls.js';
import { AnswerWatch } from './calls/answerWatch.js';
import { CallReaper } from './calls/reaper.js';
import { createBilling } from './billing/index.js';
import { CallLifecycle } from './calls/lifecycle.js';
import { registerActiveCalls } from './admin/routes/calls.js';
import { registerApiCalls } from './admin/routes/apiCalls.js';
import { registerDoNotCall } from './admin/routes/dnc.js';
import { CallbackDispatcher } from './callbacks/dispatcher.js';
import { sipDialer } from './calls/apiCallDial.js';
import { ApiCalls } from './calls/apiCalls.js';
import { transferHandler, type TransferDeps } from './calls/transfer.js';
import { RedisApiCallStore } from './stores/apiCallRecords.js';
import { RedisDoNotCallList } from './stores/dnc.js';
import { registerWorkspaceLimits, registerWorkspaceOutbound } from './admin/routes/workspaces.js';
import { DigestAuthenticator } from './domain/digest.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import type { InboundPipelineDeps } from './pipeline/inbound.js';
import { RedisCallLimiter, type CallLimiter } from './limits/limiter.js';
import { SourceFloodGuard } from './limits/floodGuard.js';
import { AuthFailureGuard } from './limits/authGuard.js';
import { LogBudget } from './observability/logBudget.js';
import { protocolPolicy } from './pipeline/steps/protocol.js';
import { scannerPatterns } from './pipeline/steps/scanner.js';
import { createMediaService } from './media/index.js';
import { DrachtioConnection } from './sip/connection.js';
import { handleInvite } from './sip/inviteHandler.js';
import { handleRequest, NON_INVITE_METHODS } from './sip/requestHandler.js';
import { guardUnparseable } from './sip/unparseable.js';
import { CidrMatcher } from './domain/cidr.js';
import type { OutboundPipelineDeps } from './pipeline/outbound.js';
import { RedisWorkspaceSettings } from './stores/workspaceSettings.js';
import { Catalog } from './stores/catalog.js';
import { checkKeyLayout, redisKeys } from './stores/keys.js';
import { RedisHealth } from './stores/redisHealth.js';
import { createRedis, whenReady, type RedisClient } from './stores/redis.js';
import { RedisRouteStore, routeStoreOptions, type RouteStore } from './stores/routeStore.js';
import { onMethod, pendingInviteCount, stopNewRequests } from './types/drachtio.js';

/** After handing new INVITEs off to other apps, how long INVITEs drachtio had already sent here are still taken. */
const HANDOFF_GRACE_MS = 250;

export interface App {
  readonly admin: FastifyInstance;
  readonly metrics: Metrics;
  readonly catalog: Catalog;
  readonly store: RedisRouteStore;
  readonly lifecycle: CallLifecycle;
  readonly drachtio: DrachtioConnection;
  readonly activeCalls: ActiveCalls;
  /** Starts the admin API at once, then Redis, the route store and drachtio as they become reachable. */
  start(): Promise<void>;
  /** Stops taking calls (503), waits for active calls up to the drain timeout, then closes everything. */
  stop(): Promise<void>;
}

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

/** The failed-digest limits of the `sip:` section (per source, per trunk, window, cool-off). */
export function authFailureGuard(sip: Config['sip'], onBlock?: (scope: 'source' | 'trunk') => void): AuthFailureGuard {
  const l = sip.auth_failure_limit;
  return new AuthFailureGuard(
    { perSource: l.per_source, perTrunk: l.per_trunk, windowMs: l.window_s * 1000, cooloffMs: l.cooloff_s * 1000 },
    onBlock ? { onBlock } : {},
  );
}

/** What the inbound pipeline needs, from the `sip:` section of the configuration. */
export function inboundPipelineDeps(sip: Config['sip'], store: RouteStore, limiter: CallLimiter, authGuard = authFailureGuard(sip)): InboundPipelineDeps {
  return {
    store,
    digest: new DigestAuthenticator(sip.auth_realm, sip.nonce_secret),
    silentDropUnknownSources: sip.silent_drop_unknown_sources,
    scannerPatterns: scannerPatterns(sip.scanner_user_agents),
    defaultCountry: sip.default_country,
    limiter,
    flood: new SourceFloodGuard(sip.unknown_source_rate_per_s),
    maxMessageBytes: sip.max_message_bytes,
    minSessionExpiresS: sip.session_timer.min_se_s,
    authGuard,
    protocol: protocolPolicy(sip.supported_option_tags),
  };
}

/** Wires every part of the edge; main.ts only loads config and handles signals. */
export function createApp({ config, logger, metrics = createMetrics() }: AppDeps): App {
  const redis: RedisClient = createRedis(config.redis, 'main');
  const subscriber: RedisClient = createRedis(config.redis, 'invalidations');
  const keys = redisKeys(config.redis.key_prefix);
  // Refuses (naming the key) a layout whose scripts would cross cluster slots, in every mode.
  checkKeyLayout(keys, { stream: config.billing.stream, shards: config.billing.stream_shards });
  const catalog = new Catalog(redis, keys);
  const redisHealth = new RedisHealth(redis, config.redis.mode, config.redis.health_interval_ms, logger.child({ component: 'redis-health' }));
  const store = new RedisRouteStore(
    redis,
    subscriber,
    keys,
    routeStoreOptions(config.cache),
    metrics,
    logger.child({ component: 'route-store' }),
  );
  const srf = new Srf();
  const drachtio = new DrachtioConnection(srf, config.drachtio, metrics, logger);
  const lifecycle = new CallLifecycle((err, event) => logger.error({ err, event }, 'call lifecycle listener failed'));
  const billing = createBilling({ config, metrics, logger });
  lifecycle.attach(billing.listener);
  const activeCalls = new ActiveCalls();
  const answers = new AnswerWatch(srf);
  const reaper = new CallReaper(
    activeCalls,
    answers,
    { intervalMs: config.sip.reap_interval_s * 1000, maxSetupMs: config.sip.max_setup_s * 1000, maxBridgeMs: 40_000 },
    metrics,
    logger.child({ component: 'reaper' }),
  );
  const media = createMediaService(config.media, metrics, logger);
  /** set at stop(): /readyz says not ready */
  let stopping = false;
  /** new INVITEs reaching this instance are refused with 503 draining */
  let draining = false;
  let storeReady = false;

  redis.on('ready', () => metrics.redisConnected.set(1));
  redis.on('end', () => metrics.redisConnected.set(0));
  redis.on('close', () => metrics.redisConnected.set(0));
  for (const client of [redis, subscriber]) {
    client.on('error', (err: Error) => logger.debug({ err: { message: err.message } }, 'redis connection error'));
  }

  const limiter = new RedisCallLimiter(
    redis,
    keys,
    config.instance_id ?? 'sip-edge',
    config.limits.workspace_default,
    config.limits.lease_s * 1000,
    metrics,
    logger.child({ component: 'limits' }),
  );

  const authGuard = authFailureGuard(config.sip, (scope) => metrics.authBlocks.inc({ scope }));
  const pipeline = inboundPipelineDeps(config.sip, store, limiter, authGuard);
  metrics.probes.authBlockedSources = () => authGuard.blockedSources;
  metrics.probes.pendingInvites = () => pendingInviteCount(srf);
  const logBudget = new LogBudget(config.sip.hostile_log_lines_per_s, (kind) => metrics.logLinesSuppressed.inc({ kind }));

  const dncList = new RedisDoNotCallList(redis, keys);
  const outbound: OutboundPipelineDeps = {
    store,
    workspaces: new RedisWorkspaceSettings(redis, keys),
    limiter,
    defaultCountry: config.sip.default_country,
    defaultOutboundTrunkId: config.sip.default_outbound_trunk_id,
    protocol: pipeline.protocol,
    mediaAnchored: config.media.anchor === 'always',
    dnc: dncList,
  };
  const transfer: TransferDeps = { srf, outbound, lifecycle, activeCalls, metrics, ringTimeoutMs: config.sip.outbound_ring_timeout_s * 1000, maxMessageBytes: config.sip.max_message_bytes };
  const callbacks = config.callbacks.secret
    ? new CallbackDispatcher(
        {
          secret: config.callbacks.secret,
          timeoutMs: config.callbacks.timeout_ms,
          maxAttempts: config.callbacks.max_attempts,
          retryMinMs: config.callbacks.retry_min_ms,
          retryMaxMs: config.callbacks.retry_max_ms,
          queueMax: config.callbacks.queue_max,
          concurrency: config.callbacks.concurrency,
        },
        metrics.registry,
        logger.child({ component: 'callbacks' }),
      )
    : null;
  const apiCalls = new ApiCalls(
    {
      outbound,
      store: new RedisApiCallStore(redis, keys, { recordS: config.api_calls.record_ttl_s, idempotencyS: config.api_calls.idempotency_ttl_s }),
      dialer: sipDialer(srf),
      lifecycle,
      activeCalls,
      metrics,
      logger: logger.child({ component: 'api-calls' }),
      callbacks,
      settings: {
        instanceId: config.instance_id ?? 'sip-edge',
        defaultRingTimeoutS: config.sip.outbound_ring_timeout_s,
        agentRingTimeoutS: config.api_calls.agent_ring_timeout_s,
        defaultMaxDurationS: config.sip.default_max_call_duration_s,
        maxMessageBytes: config.sip.max_message_bytes,
      },
      draining: () => draining,
      referHandler: (session, agentId, callerE164, log) => transferHandler(transfer, { session, agentId, callerE164, log }),
    },
    metrics.registry,
  );
  lifecycle.attach(apiCalls.listener);
  const browser = createTestCallEntry(config, { store, limiter, tokens: new RedisTestCallTokenStore(redis, keys), scannerPatterns: pipeline.scannerPatterns, protocol: pipeline.protocol });
  const agentSources = new CidrMatcher<true>();
  for (const cidr of config.sip.agent_cidrs) agentSources.add(cidr, true);
  // Every other method outside a dialog, and messages drachtio-srf cannot parse, pass the same gates.
  const requests = {
    pipeline: {
      store,
      silentDropUnknownSources: config.sip.silent_drop_unknown_sources,
      scannerPatterns: pipeline.scannerPatterns,
      agentSources,
      flood: pipeline.flood,
      authGuard,
      protocol: pipeline.protocol,
    },
    metrics,
    logger: logger.child({ component: 'sip' }),
    logBudget,
    retryAfterS: config.sip.retry_after_s,
    draining: () => draining,
  };

  srf.invite((req, res) =>
    handleInvite(
      {
        srf,
        inbound: pipeline,
        outbound,
        agentSources,
        lifecycle,
        activeCalls,
        answers,
        metrics,
        logger,
        transfer,
        retryAfterS: config.sip.retry_after_s,
        logBudget,
        draining: () => draining,
        ...(media ? { media } : {}),
        ...(browser ? { browser } : {}),
        inboundBridge: (trunkMaxS) => ({
          ringTimeoutMs: config.sip.ring_timeout_s * 1000,
          failoverOn: config.sip.failover_on,
          voicemailUri: config.sip.voicemail_uri,
          udpMaxBytes: config.sip.udp_max_bytes,
          maxCallDurationMs: (trunkMaxS ?? config.sip.default_max_call_duration_s) * 1000,
          maxMessageBytes: config.sip.max_message_bytes,
          retryAfterS: config.sip.retry_after_s,
          sessionTimer: { intervalS: config.sip.session_timer.interval_s, minSeS: config.sip.session_timer.min_se_s },
        }),
        outboundBridge: (trunkMaxS) => ({
          ringTimeoutMs: config.sip.outbound_ring_timeout_s * 1000,
          maxCallDurationMs: (trunkMaxS ?? config.sip.default_max_call_duration_s) * 1000,
          maxMessageBytes: config.sip.max_message_bytes,
          retryAfterS: config.sip.retry_after_s,
          sessionTimer: { intervalS: config.sip.session_timer.interval_s, minSeS: config.sip.session_timer.min_se_s },
        }),
      },
      req,
      res,
    ),
  );
  for (const method of NON_INVITE_METHODS) onMethod(srf, method, (req, res) => handleRequest(requests, req, res));
  guardUnparseable(srf, requests);

  const admin = createAdminServer({
    config: config.admin,
    catalog,
    metrics,
    logger: logger.child({ component: 'admin' }),
    health: {
      live: () => true,
      ready: async () => {
        const health = redisHealth.state;
        const redisOk = health.ok && storeReady;
        const subscription = store.subscription;
        const checks = {
          redis: { ok: redisOk, detail: storeReady ? health.detail : `${health.detail}, route store not loaded` },
          invalidations: { ok: subscription.ok, detail: subscription.detail },
          drachtio: { ok: drachtio.state === 'connected', detail: drachtio.why },
          accepting_calls: { ok: !stopping, detail: stopping ? 'draining for shutdown' : 'accepting' },
          ...(media ? { media_anchor: mediaCheck(media.anchor.health()) } : {}),
        };
        return { ready: Object.values(checks).every((c) => c.ok), checks };
      },
    },
    plugins: [
      (app) => registerRouteTest(app, { inbound: pipeline, outbound, agentSources }),
      (app) => registerActiveCalls(app, activeCalls),
      (app) => registerWorkspaceLimits(app, { redis, keys, defaults: config.limits.workspace_default }),
      (app) => registerWorkspaceOutbound(app, { redis, keys }),
      (app) => registerApiCalls(app, { calls: apiCalls, maxRingTimeoutS: config.api_calls.max_ring_timeout_s, retryAfterS: config.sip.retry_after_s }),
      (app) =>
        registerDoNotCall(app, {
          list: dncList,
          defaultCountry: config.sip.default_country,
          pageSizeMax: config.admin.page_size_max,
          importMaxRows: config.admin.import_max_rows,
          importMaxBytes: config.admin.import_body_limit_bytes,
        }),
      (app) => registerTestCalls(app, { catalog, config: config.test_calls }),
      (app) => registerTestCallPage(app),
    ],
    publicPaths: TEST_CALL_PAGE_PATHS,
  });

  return {
    admin,
    metrics,
    catalog,
    store,
    lifecycle,
    drachtio,
    activeCalls,
    async start() {
      await admin.listen({ host: config.admin.host, port: config.admin.port });
      logger.info({ address: admin.addresses() }, 'admin API listening');
      media?.start();
      drachtio.start();
      limiter.start();
      reaper.start();
      redisHealth.start();
      for (;;) {
        try {
          await whenReady(redis, 5000);
          await whenReady(subscriber, 5000);
          await store.start();
          await apiCalls.start(subscriber, keys.apiCallHangups);
          storeReady = true;
          logger.info('route store ready');
          await billing.start();
          return;
        } catch (err) {
          logger.warn({ err: { message: (err as Error).message } }, 'waiting for Redis');
        }
      }
    },
    async stop() {
      // /readyz turns false at once. With drachtio.mode inbound and shutdown.handoff_new_calls,
      // drachtio-server is told to send new INVITEs to the other apps connected to it (requests in
      // this instance's dialogs still come here); INVITEs it routed here before that are still taken
      // for HANDOFF_GRACE_MS. Then new INVITEs get 503 draining; calls up may finish until the
      // drain timeout.
      stopping = true;
      if (config.shutdown.handoff_new_calls && config.drachtio.mode === 'inbound' && drachtio.state === 'connected') {
        stopNewRequests(srf, 'invite');
        logger.info('draining: drachtio-server no longer sends new INVITEs here');
        await new Promise((resolve) => setTimeout(resolve, HANDOFF_GRACE_MS));
      }
      draining = true;
      const drainMs = config.shutdown.drain_timeout_s * 1000;
      logger.info({ activeCalls: activeCalls.size, drainMs }, 'draining');
      if (!(await activeCalls.whenIdle(drainMs))) {
        const ended = await activeCalls.terminateAll();
        logger.info({ ended }, 'drain timeout: ended the calls left with BYE');
      }
      reaper.stop();
      await callbacks?.stop(config.callbacks.timeout_ms);
      await limiter.stop();
      redisHealth.stop();
      store.stop();
      drachtio.stop();
      media?.stop();
      await admin.close();
      await billing.stop();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

function mediaCheck({ healthy, total }: { healthy: number; total: number }): { ok: boolean; detail: string } {
  return { ok: healthy > 0, detail: `${healthy} of ${total} rtpengine instances answer pings` };
}
