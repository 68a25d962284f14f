import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The one metrics registry. Names follow sip_edge_<thing>_<unit>; label values come from closed
 * sets (directions, outcomes, reject reasons), never phone numbers or call ids.
 */
export function createMetrics() {
  const registry = new Registry();
  /** Values read when /metrics is scraped, set by the parts that own them (createApp). */
  const probes = { pendingInvites: (): number => 0, authBlockedSources: (): number => 0 };
  collectDefaultMetrics({ register: registry, prefix: 'sip_edge_process_', eventLoopMonitoringPrecision: 20 });
  const m = {
    registry,
    probes,
    invites: new Counter({
      name: 'sip_edge_invites_total',
      help: 'INVITEs handled, by direction and outcome (answered, rejected, dropped, failed, cancelled)',
      labelNames: ['direction', 'outcome'] as const,
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'sip_edge_rejections_total',
      help: 'Calls refused by the policy pipeline, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'sip_edge_requests_total',
      help: 'Requests outside a dialog other than INVITE, by method (options, register, subscribe, publish, message, info, notify, other) and outcome (answered, rejected, dropped)',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    pendingInvites: new Gauge({
      name: 'sip_edge_pending_invites',
      help: 'Incoming INVITEs drachtio-srf holds without a final response (calls being set up; dropped INVITEs are released at once)',
      registers: [registry],
      collect() {
        this.set(probes.pendingInvites());
      },
    }),
    authBlocks: new Counter({
      name: 'sip_edge_auth_blocks_total',
      help: 'Sources put in the failed-auth cool-off, by the limit that did it (source, trunk)',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    authBlockedSources: new Gauge({
      name: 'sip_edge_auth_blocked_sources',
      help: 'Sources in their failed-auth cool-off now (their requests are dropped)',
      registers: [registry],
      collect() {
        this.set(probes.authBlockedSources());
      },
    }),
    unparseableMessages: new Counter({
      name: 'sip_edge_unparseable_messages_total',
      help: 'SIP messages drachtio-srf could not parse, by outcome (answered 400/403, released without an answer)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    logLinesSuppressed: new Counter({
      name: 'sip_edge_log_lines_suppressed_total',
      help: 'Log lines about hostile input left out by the per-kind rate limit (counted here instead)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    activeCalls: new Gauge({
      name: 'sip_edge_active_calls',
      help: 'Calls currently bridged',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    setupSeconds: new Histogram({
      name: 'sip_edge_call_setup_seconds',
      help: 'Time from INVITE to the final answer the caller got',
      labelNames: ['direction'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    redisSeconds: new Histogram({
      name: 'sip_edge_redis_command_seconds',
      help: 'Redis round trips on the call path',
      labelNames: ['operation'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'sip_edge_route_cache_lookups_total',
      help: 'Route cache lookups: hit, miss, stale (served last-known-good while Redis failed)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    limitChecks: new Counter({
      name: 'sip_edge_limit_checks_total',
      help: 'Call admission against trunk/workspace limits: admitted, the limit that refused, or unavailable (failed open)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    billingEvents: new Counter({
      name: 'sip_edge_billing_events_total',
      help: 'Billing events by type and result: appended to the stream, duplicate (already appended, skipped), superseded (call.ended of a call another instance already closed)',
      labelNames: ['type', 'result'] as const,
      registers: [registry],
    }),
    billingAppendFailures: new Counter({
      name: 'sip_edge_billing_append_failures_total',
      help: 'Failed attempts to append billing events to Redis (the events are kept in the spool and retried)',
      registers: [registry],
    }),
    billingSpooled: new Counter({
      name: 'sip_edge_billing_spooled_events_total',
      help: 'Billing events written to the local spool because Redis could not take them',
      registers: [registry],
    }),
    billingSpoolEvents: new Gauge({
      name: 'sip_edge_billing_spool_events',
      help: 'Billing events waiting in the local spool for Redis',
      registers: [registry],
    }),
    billingTakenForDead: new Counter({
      name: 'sip_edge_billing_taken_for_dead_total',
      help: 'Times a peer closed this instance\'s calls while it was alive (cut off from Redis past the liveness TTL); each such call gets call.corrected',
      registers: [registry],
    }),
    billingRecoveredCalls: new Counter({
      name: 'sip_edge_billing_recovered_calls_total',
      help: 'Answered calls of dead instances (or of this instance before a restart) closed with call.ended cause edge_restart',
      registers: [registry],
    }),
    callsReaped: new Counter({
      name: 'sip_edge_calls_reaped_total',
      help: 'Calls closed by the safety net because their dialogs were gone or their setup never finished',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    oversizeMessages: new Counter({
      name: 'sip_edge_oversize_messages_total',
      help: 'Messages the edge did not hand drachtio-server because they exceed sip.max_message_bytes',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    drachtioStalls: new Counter({
      name: 'sip_edge_drachtio_stalls_total',
      help: 'Times drachtio-server stopped answering pings and the connection was dropped and remade',
      registers: [registry],
    }),
    drachtioConnected: new Gauge({
      name: 'sip_edge_drachtio_connected',
      help: '1 while the app is connected to drachtio-server',
      registers: [registry],
    }),
    mediaInstancesHealthy: new Gauge({
      name: 'sip_edge_media_anchor_instances_healthy',
      help: 'rtpengine instances answering pings (the media anchor)',
      registers: [registry],
    }),
    mediaCommandSeconds: new Histogram({
      name: 'sip_edge_media_command_seconds',
      help: 'Round trips of ng commands to rtpengine on the call path, by command and result (ok, error)',
      labelNames: ['command', 'result'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
      registers: [registry],
    }),
    mediaPackets: new Histogram({
      name: 'sip_edge_media_packets',
      help: 'RTP packets the anchor received from one leg of an anchored call, per call end, by leg (carrier, agent)',
      labelNames: ['leg'] as const,
      buckets: [0, 10, 100, 500, 1000, 5000, 25_000, 100_000, 500_000],
      registers: [registry],
    }),
    mediaJitterMs: new Histogram({
      name: 'sip_edge_media_jitter_ms',
      help: 'Average jitter (RTCP, as rtpengine reports it) of one leg of an anchored call, by leg',
      labelNames: ['leg'] as const,
      buckets: [1, 5, 10, 20, 30, 50, 100, 200],
      registers: [registry],
    }),
    mediaPacketLossPct: new Histogram({
      name: 'sip_edge_media_packet_loss_percent',
      help: 'Average packet loss (RTCP, as rtpengine reports it) of one leg of an anchored call, by leg',
      labelNames: ['leg'] as const,
      buckets: [0, 0.5, 1, 2, 5, 10, 20, 50],
      registers: [registry],
    }),
    mediaMos: new Histogram({
      name: 'sip_edge_media_mos',
      help: "rtpengine's average MOS of one leg of an anchored call, by leg",
      labelNames: ['leg'] as const,
      buckets: [1, 2, 2.5, 3, 3.5, 4, 4.2, 4.4, 5],
      registers: [registry],
    }),
    mediaTimeouts: new Counter({
      name: 'sip_edge_media_timeouts_total',
      help: 'Anchored calls ended because no RTP arrived for the media timeout',
      registers: [registry],
    }),
    redisConnected: new Gauge({
      name: 'sip_edge_redis_connected',
      help: '1 while the main Redis connection is ready',
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
