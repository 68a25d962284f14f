import type { RedisKeys } from '../stores/keys.js';
import type { RedisClient } from '../stores/redis.js';

/** Whether a token id is presented for the first time. */
export type Consumption = 'fresh' | 'used';

/** Where test-call tokens are marked used; shared by every instance (Redis). */
export interface TestCallTokenStore {
  /**
   * Marks the token used and says whether it was fresh. `expiresAtMs`: the token's expiry, after
   * which the mark may go (an expired token is refused before it gets here). Rejects when the
   * store cannot answer: the call is then refused, never let through.
   */
  consume(jti: string, expiresAtMs: number): Promise<Consumption>;
}

/** One SET NX per presented token, with the token's remaining life (+ a minute for clock skew) as TTL. */
export class RedisTestCallTokenStore implements TestCallTokenStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly now: () => number = Date.now,
  ) {}

  async consume(jti: string, expiresAtMs: number): Promise<Consumption> {
    const ttlMs = Math.max(1000, expiresAtMs - this.now()) + 60_000;
    const set = await this.redis.set(this.keys.testCallToken(jti), String(this.now()), 'PX', ttlMs, 'NX');
    return set === 'OK' ? 'fresh' : 'used';
  }
}
