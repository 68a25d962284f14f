import type { Config } from '../config/schema.js';
import type { CallLimiter } from '../limits/limiter.js';
import type { ProtocolPolicy } from '../pipeline/steps/protocol.js';
import type { RouteStore } from '../stores/routeStore.js';
import { MAX_TOKEN_TTL_S } from './config.js';
import { browserEntryTrunk } from './entry.js';
import type { TestCallEntry } from './invite.js';
import type { TestCallTokenStore } from './tokenStore.js';

export type { TestCallEntry } from './invite.js';
export { RedisTestCallTokenStore } from './tokenStore.js';

/** The browser entry of this config, or null while test calls are off (no test_calls.secret). */
export function createTestCallEntry(
  config: Config,
  deps: { store: RouteStore; limiter: CallLimiter; tokens: TestCallTokenStore; scannerPatterns: readonly RegExp[]; protocol?: ProtocolPolicy },
): TestCallEntry | null {
  const t = config.test_calls;
  if (t.secret === undefined) return null;
  const sip = config.sip;
  return {
    entryPorts: new Set(t.entry_ports),
    pipeline: {
      // tokens are checked against the bound, not today's token_ttl_s: lowering it spoils no token already out
      tokens: { secret: t.secret, maxTtlS: MAX_TOKEN_TTL_S, store: deps.tokens },
      store: deps.store,
      limiter: deps.limiter,
      entry: browserEntryTrunk(t),
      scannerPatterns: deps.scannerPatterns,
      maxMessageBytes: sip.max_message_bytes,
      ...(deps.protocol ? { protocol: deps.protocol } : {}),
    },
    bridge: (maxDurationS) => ({
      ringTimeoutMs: sip.ring_timeout_s * 1000,
      failoverOn: sip.failover_on,
      voicemailUri: sip.voicemail_uri,
      maxCallDurationMs: (maxDurationS ?? t.max_call_duration_s) * 1000,
      maxMessageBytes: sip.max_message_bytes,
      retryAfterS: sip.retry_after_s,
    }),
  };
}
