import { z } from 'zod';
import { isCountryCode } from '../domain/e164.js';
import { billingConfigSchema } from '../billing/config.js';
import { testCallsConfigSchema } from '../browser/config.js';
import { parseCidr } from '../domain/cidr.js';

/** Failure statuses that may move a call on to the next agent: exact codes or classes like "5xx". */
const failoverStatus = z
  .string()
  .regex(/^([1-6]\d\d|[3-6]xx)$/, 'must be a SIP status (e.g. "480") or a class (e.g. "5xx")');

const port = z.coerce.number().int().min(1).max(65535);
const portOrZero = z.coerce.number().int().min(0).max(65535);

const redisSchema = z
  .object({
    /** redis://, rediss:// URL for a single server (also the seed for sentinel/cluster modes). */
    url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379/0'),
    mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
    /** host:port pairs, used by sentinel and cluster modes. */
    nodes: z.preprocess(
      (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : v),
      z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).default([]),
    ),
    /** Name of the master set (sentinel mode). */
    sentinel_name: z.string().default('mymaster'),
    /** Prefix of every key. No braces: each key carries its entity's own hash tag after it (stores/keys.ts). */
    key_prefix: z
      .string()
      .min(1)
      .regex(/^[^{}]+$/, 'must not contain "{" or "}": every key carries its own hash tag after the prefix, and a tag in the prefix would put every key in one cluster slot')
      .default('sipedge:'),
    /** Upper bound for one Redis command on the call path; past it the call is answered from cache or 503. */
    command_timeout_ms: z.coerce.number().int().min(10).max(10_000).default(250),
    /** How often /readyz's view of Redis is refreshed (PING; per master and the slot map on a cluster; ROLE under Sentinel), and a cluster client's slot map. */
    health_interval_ms: z.coerce.number().int().min(100).max(60_000).default(1000),
  })
  .superRefine((r, ctx) => {
    if (r.mode !== 'standalone' && r.nodes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: `mode ${r.mode} needs at least one host:port in nodes` });
    }
  });

const drachtioSchema = z
  .object({
    /** inbound: the app connects to drachtio-server's admin port; outbound: drachtio-server connects to the app. */
    mode: z.enum(['inbound', 'outbound']).default('inbound'),
    host: z.string().default('127.0.0.1'),
    port: port.default(9022),
    secret: z.string().min(1).default('cymru'),
    /** outbound mode: where the app listens for drachtio-server. */
    listen_host: z.string().default('127.0.0.1'),
    listen_port: port.default(3000),
    reconnect_min_ms: z.coerce.number().int().min(50).default(250),
    reconnect_max_ms: z.coerce.number().int().min(100).default(5000),
    /** How often the app pings drachtio-server; a ping unanswered by the next one drops and remakes the connection. */
    stall_check_ms: z.coerce.number().int().min(100).max(60_000).default(2000),
  })
  .superRefine((d, ctx) => {
    if (d.reconnect_max_ms < d.reconnect_min_ms) {
      ctx.addIssue({ code: 'custom', path: ['reconnect_max_ms'], message: 'must be >= reconnect_min_ms' });
    }
  });

const adminSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: portOrZero.default(8080),
  token: z.string().min(16, 'must be at least 16 characters'),
  page_size_max: z.coerce.number().int().min(1).max(1000).default(200),
  import_max_rows: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Largest request body of every route but the bulk import, in bytes (413 beyond). */
  body_limit_bytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Largest bulk import body (JSON or CSV), in bytes (413 beyond). */
  import_body_limit_bytes: z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(8 * 1024 * 1024),
  /** Deepest nesting of objects/arrays a JSON body may have (400 beyond, checked before parsing). */
  json_max_depth: z.coerce.number().int().min(8).max(1000).default(32),
});

const sipSchema = z.object({
  /** Requests from sources that match no trunk get no answer at all instead of 403. */
  silent_drop_unknown_sources: z.boolean().default(false),
  ring_timeout_s: z.coerce.number().int().min(1).max(300).default(20),
  failover_on: z.array(failoverStatus).default(['408', '480', '5xx']),
  /** SIP URI of the voicemail service that takes calls no agent answered; unset = no voicemail stage. */
  voicemail_uri: z.string().regex(/^sips?:/, 'must be a sip: or sips: URI').optional(),
  default_max_call_duration_s: z.coerce.number().int().min(1).default(4 * 3600),
  /** Sources allowed to originate outbound calls (the AI agent infrastructure); X-Agent-Id is believed only from them. */
  agent_cidrs: z.array(z.string().refine((v) => parseCidr(v) !== null, 'must be an IPv4/IPv6 address or CIDR')).default([]),
  /** Trunk for outbound calls whose caller ID number has no trunk of its own (the platform's carrier). */
  default_outbound_trunk_id: z.string().min(1).optional(),
  /** How long a carrier leg may ring before the agent's call gets 480. */
  outbound_ring_timeout_s: z.coerce.number().int().min(1).max(600).default(60),
  /** Requests whose User-Agent contains one of these (case-insensitive) get no answer. */
  scanner_user_agents: z
    .array(z.string().min(1))
    .default(['friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'VaxSIPUserAgent', 'iWar', 'sundayddr', 'pplsip']),
  /** Requests per second one source that matches no trunk may send before it is dropped (0 = no limit). */
  unknown_source_rate_per_s: z.coerce.number().min(0).default(5),
  /** Country for dialled numbers that carry neither "+", a country code, nor a phone-context. */
  default_country: z
    .string()
    .refine((c) => isCountryCode(c), 'must be an ISO 3166 alpha-2 code')
    .optional(),
  /** Realm of digest challenges to trunks with inbound credentials. */
  auth_realm: z.string().min(1).default('sip-edge'),
  /** Secret that signs digest nonces; set the same on every instance (unset = random per process). */
  nonce_secret: z.string().min(16).optional(),
  /** Retry-After seconds on 503 answers (limits, overload, draining). */
  retry_after_s: z.coerce.number().int().min(1).max(3600).default(5),
  /**
   * Largest SIP message the edge hands drachtio-server (headers + body). drachtio-server keeps
   * each message from the app in a ~12 KB buffer and stops reading the app for good after a larger
   * one; an INVITE or in-dialog request that would not fit is refused with 513 instead.
   */
  max_message_bytes: z.coerce.number().int().min(2000).max(11_500).default(10_000),
  /** Session timers (RFC 4028) on both legs: the interval the edge asks for, the smallest it accepts (422 below). */
  session_timer: z
    .object({
      interval_s: z.coerce.number().int().min(90).max(86_400).default(1800),
      min_se_s: z.coerce.number().int().min(90).max(86_400).default(90),
    })
    .prefault({})
    .refine((t) => t.interval_s >= t.min_se_s, { message: 'interval_s must be >= min_se_s', path: ['interval_s'] }),
  /** RFC 3261 18.1.1: an INVITE to an agent URI without a transport over this many bytes goes over TCP first (0 = never) */
  udp_max_bytes: z.coerce.number().int().min(0).max(65_000).default(1300),
  /** How often the safety net looks for calls whose dialogs are gone (they are closed with their true duration). */
  reap_interval_s: z.coerce.number().min(0.1).max(60).default(2),
  /** A call not answered after this long is closed by the safety net (no failover path takes longer). */
  max_setup_s: z.coerce.number().int().min(10).default(300),
  /** Failed digest attempts before a source is dropped for a cool-off (brute force). */
  auth_failure_limit: z
    .object({
      /** failures of one source inside the window (0 = no limit) */
      per_source: z.coerce.number().int().min(0).default(5),
      /** failures on one trunk inside the window, after which each failing source is dropped at its first failure (0 = off) */
      per_trunk: z.coerce.number().int().min(0).default(20),
      window_s: z.coerce.number().int().min(1).max(86_400).default(300),
      cooloff_s: z.coerce.number().int().min(1).max(86_400).default(900),
    })
    .prefault({}),
  /**
   * SIP option tags (RFC 3261 19.2) an INVITE may Require; any other gets 420 Bad Extension.
   * The edge implements none itself: list one only when drachtio and every agent behind it do.
   */
  supported_option_tags: z.array(z.string().regex(/^[A-Za-z0-9.!%*_+`'~-]+$/, 'must be a SIP option tag')).default([]),
  /** Lines per second about unparseable messages and dropped requests, per kind; the rest are counted, not logged. */
  hostile_log_lines_per_s: z.coerce.number().int().min(0).max(1000).default(5),
});

const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port');

/** The media anchor (rtpengine): off relays SDP between the legs as it comes; always anchors every call. */
const mediaSchema = z
  .object({
    anchor: z.enum(['off', 'always']).default('off'),
    /** rtpengine ng control addresses (UDP host:port); calls spread over the healthy ones */
    rtpengine: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(hostPort))
      .default([]),
    /** bound of one ng command on the call path; past it the instance counts as down */
    command_timeout_ms: z.coerce.number().int().min(20).max(5000).default(400),
    /** how often every instance is pinged; a failed ping takes it out of rotation until one succeeds */
    ping_interval_ms: z.coerce.number().int().min(100).max(60_000).default(2000),
    /** seconds without RTP in either direction before an answered call is ended (0 = never); trunks may set their own */
    timeout_s: z.coerce.number().int().min(0).max(3600).default(30),
    /** the same while a leg holds the call (sendonly / recvonly / inactive) */
    hold_timeout_s: z.coerce.number().int().min(0).max(86_400).default(1800),
  })
  .superRefine((m, ctx) => {
    if (m.anchor === 'always' && m.rtpengine.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['rtpengine'], message: 'anchor "always" needs at least one rtpengine host:port' });
    }
  });

const cacheSchema = z.object({
  /** How long a route stays fresh without a new Redis read (invalidations arrive by pub/sub long before). */
  ttl_s: z.coerce.number().int().min(1).default(300),
  negative_ttl_s: z.coerce.number().int().min(0).default(30),
  max_keys: z.coerce.number().int().min(100).default(1_000_000),
  /**
   * How often each instance proves its invalidation subscription with a ping through the channel
   * (a ping not back within two periods = subscription lost: /readyz says so, and the whole cache
   * is invalidated when pings return). 0 = off.
   */
  subscription_check_ms: z.coerce.number().int().min(0).max(60_000).default(1000),
});

const apiCallsSchema = z.object({
  /** How long GET /v1/calls/{id} can read a call after it was placed (its record's TTL in Redis). */
  record_ttl_s: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
  /** How long an Idempotency-Key of POST /v1/calls is remembered. */
  idempotency_ttl_s: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
  /** Largest ring_timeout_s a request may ask for the destination (PSTN) leg. */
  max_ring_timeout_s: z.coerce.number().int().min(5).max(300).default(120),
  /**
   * How long the agent may ring once the destination answered. The destination's 200 OK is
   * acknowledged only when the agent answers (its SDP is the answer), and a carrier gives up on an
   * unacknowledged 200 after 64*T1 = 32 s (RFC 3261 13.3.1.4): hence at most 30.
   */
  agent_ring_timeout_s: z.coerce.number().int().min(1).max(30).default(15),
});

const callbacksSchema = z
  .object({
    /** HMAC-SHA256 key of status callback signatures; without it POST /v1/calls refuses a status_callback. */
    secret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** How long one delivery may take (connect + answer). */
    timeout_ms: z.coerce.number().int().min(100).max(60_000).default(5000),
    /** Deliveries tried per event before it is given up (logged and counted). */
    max_attempts: z.coerce.number().int().min(1).max(20).default(6),
    retry_min_ms: z.coerce.number().int().min(10).default(1000),
    retry_max_ms: z.coerce.number().int().min(10).default(60_000),
    /** Events waiting for delivery, all calls together; beyond it new events are dropped (and counted). */
    queue_max: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** Deliveries in flight at once. */
    concurrency: z.coerce.number().int().min(1).max(256).default(8),
  })
  .superRefine((c, ctx) => {
    if (c.retry_max_ms < c.retry_min_ms) ctx.addIssue({ code: 'custom', path: ['retry_max_ms'], message: 'must be >= retry_min_ms' });
  });

export const configSchema = z.object({
  instance_id: z.string().min(1).optional(),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  redis: redisSchema.prefault({}),
  drachtio: drachtioSchema.prefault({}),
  // An absent section parses as {} so that the error names admin.token, not admin.
  admin: adminSchema.prefault({} as z.input<typeof adminSchema>),
  sip: sipSchema.prefault({}),
  cache: cacheSchema.prefault({}),
  media: mediaSchema.prefault({}),
  limits: z
    .object({
      /** Limits of workspaces without their own (PUT /v1/workspaces/{id}/limits); null = unlimited. */
      workspace_default: z
        .object({
          max_concurrent_calls: z.coerce.number().int().min(0).nullable().default(null),
          max_cps: z.coerce.number().positive().nullable().default(null),
        })
        .prefault({}),
      /** A call slot expires this long after its instance stopped refreshing it (instance died). */
      lease_s: z.coerce.number().int().min(5).max(3600).default(60),
    })
    .prefault({}),
  billing: billingConfigSchema.prefault({}),
  api_calls: apiCallsSchema.prefault({}),
  callbacks: callbacksSchema.prefault({}),
  test_calls: testCallsConfigSchema.prefault({}),
  shutdown: z
    .object({
      drain_timeout_s: z.coerce.number().int().min(0).default(30),
      /**
       * On SIGTERM (drachtio.mode inbound), tell drachtio-server to route new INVITEs to the other
       * apps connected to it, so that draining one of several instances sharing a drachtio-server
       * refuses no call. An instance alone on its drachtio-server leaves new INVITEs to drachtio,
       * which answers them 503 itself (no Retry-After); false keeps taking them and answers 503
       * draining with Retry-After.
       */
      handoff_new_calls: z.boolean().default(true),
    })
    .prefault({}),
})
  .superRefine((c, ctx) => {
    // A browser speaks only ICE + DTLS-SRTP, which agents do not: its media always goes through the anchor.
    if (c.test_calls.secret !== undefined && c.media.anchor !== 'always') {
      ctx.addIssue({ code: 'custom', path: ['test_calls', 'secret'], message: 'browser test calls need the media anchor (media.anchor: always)' });
    }
  });

export type Config = z.infer<typeof configSchema>;
