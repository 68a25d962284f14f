import { redisKeys } from '../../../src/stores/keys.js';
import { createRedis, whenReady } from '../../../src/stores/redis.js';
import { configSchema } from '../../../src/config/schema.js';

export interface BillingEvent {
  readonly type: string;
  readonly call_id: string;
  readonly idempotency_key: string;
  readonly billable_s: number;
  readonly end_cause?: string;
  readonly duration_ms?: number;
  readonly plan?: { id: string };
  readonly [field: string]: unknown;
}

/** Every billing event of the stream under `prefix`, as a consumer would read it. */
export async function readBillingEvents(redisUrl: string, prefix: string, stream = 'billing:events', shards = 1): Promise<BillingEvent[]> {
  const config = configSchema.parse({ admin: { token: 'x'.repeat(16) }, redis: { url: redisUrl, key_prefix: prefix } });
  const redis = createRedis(config.redis, 'test-billing-read');
  try {
    await whenReady(redis, 5000);
    const entries: [string, string[]][] = [];
    for (const shard of redisKeys(prefix).billingShards(stream, shards)) entries.push(...(await redis.xrange(shard.stream, '-', '+')));
    return entries.map(([, fields]) => {
      const i = fields.indexOf('event');
      return JSON.parse(fields[i + 1]!) as BillingEvent;
    });
  } finally {
    redis.disconnect();
  }
}

export const ofCall = (events: readonly BillingEvent[], callId: string): BillingEvent[] => events.filter((e) => e.call_id === callId);
