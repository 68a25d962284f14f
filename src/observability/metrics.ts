import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The one metrics registry. Names follow sip_edge_<thing>_<unit>; label values come from closed
 * sets (directions, outcomes, reject reasons), never phone numbers or call ids.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sip_edge_process_', eventLoopMonitoringPrecision: 20 });
  const m = {
    registry,
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
    drachtioConnected: new Gauge({
      name: 'sip_edge_drachtio_connected',
      help: '1 while the app is connected to drachtio-server',
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
