import { z } from 'zod';

/** The longest a test-call token may live: the issue's bound, whatever the config says. */
export const MAX_TOKEN_TTL_S = 600;

const port = z.coerce.number().int().min(1).max(65535);

/**
 * Browser test calls (`test_calls:`): WebRTC callers on drachtio-server's ws/wss listeners,
 * admitted by single-use tokens from POST /v1/test-calls. Off while `secret` is unset.
 */
export const testCallsConfigSchema = z
  .object({
    /** HMAC-SHA256 key of test-call tokens; set the same on every instance. Unset: test calls are off. */
    secret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** How long a token may wait for its INVITE (at most 600 s). */
    token_ttl_s: z.coerce.number().int().min(10).max(MAX_TOKEN_TTL_S).default(300),
    /**
     * drachtio-server's listening ports of the ws/wss contacts (the browser entry). drachtio-srf
     * reports ws and wss requests as "tcp": the port they arrived on is what tells them apart.
     */
    entry_ports: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(port))
      .default([]),
    /** The URL browsers connect to (wss:// in production; ws:// is fine on 127.0.0.1). */
    ws_url: z.string().regex(/^wss?:\/\/[^\s/]+/, 'must be a ws:// or wss:// URL').optional(),
    /** Limits of the browser entry as a whole (it counts as trunk "browser"); workspace limits apply too. null = none. */
    max_concurrent_calls: z.coerce.number().int().min(0).nullable().default(null),
    max_cps: z.coerce.number().positive().nullable().default(null),
    /** A test call is ended (BYE both legs) after this long. */
    max_call_duration_s: z.coerce.number().int().min(10).max(86_400).default(1800),
  })
  .superRefine((t, ctx) => {
    if (t.secret === undefined) return;
    if (t.entry_ports.length === 0) ctx.addIssue({ code: 'custom', path: ['entry_ports'], message: 'test calls need the port of at least one ws/wss contact of drachtio-server' });
    if (t.ws_url === undefined) ctx.addIssue({ code: 'custom', path: ['ws_url'], message: 'test calls need the ws:// or wss:// URL browsers connect to' });
  });

export type TestCallsConfig = z.infer<typeof testCallsConfigSchema>;
