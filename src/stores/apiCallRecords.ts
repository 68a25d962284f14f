import { createHash } from 'node:crypto';
import type { ApiCallRecord } from '../calls/apiCallState.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis.js';

export type IdempotencyClaim =
  | { readonly claimed: true }
  /** the key was used before: by this call, for a request with this fingerprint */
  | { readonly claimed: false; readonly callId: string; readonly fingerprint: string };

/** What POST /v1/calls and GET/DELETE /v1/calls/{id} keep in Redis, so that any instance answers. */
export interface ApiCallStore {
  save(record: ApiCallRecord): Promise<void>;
  get(id: string): Promise<ApiCallRecord | null>;
  /** Takes an Idempotency-Key for a new call, or tells which call already has it. */
  claimIdempotency(workspaceId: string, key: string, callId: string, fingerprint: string): Promise<IdempotencyClaim>;
  /** Gives a key back (the request was refused, a retry may try again), if `callId` still holds it. */
  releaseIdempotency(workspaceId: string, key: string, callId: string): Promise<void>;
  /** Asks every instance to hang up this call; the one carrying it does. */
  publishHangup(id: string): Promise<void>;
}

/** The key itself is client data of any length: it is stored hashed. */
const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex');

const RELEASE_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).call_id == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RedisApiCallStore implements ApiCallStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly ttl: { readonly recordS: number; readonly idempotencyS: number },
  ) {}

  async save(record: ApiCallRecord): Promise<void> {
    await this.redis.set(this.keys.apiCall(record.id), JSON.stringify(record), 'EX', this.ttl.recordS);
  }

  async get(id: string): Promise<ApiCallRecord | null> {
    const raw = await this.redis.get(this.keys.apiCall(id));
    return raw === null ? null : (JSON.parse(raw) as ApiCallRecord);
  }

  async claimIdempotency(workspaceId: string, key: string, callId: string, fingerprint: string, retried = false): Promise<IdempotencyClaim> {
    const redisKey = this.keys.apiCallIdempotency(workspaceId, keyHash(key));
    const value = JSON.stringify({ call_id: callId, fingerprint });
    const set = await this.redis.set(redisKey, value, 'EX', this.ttl.idempotencyS, 'NX');
    if (set === 'OK') return { claimed: true };
    const raw = await this.redis.get(redisKey);
    // expired (or released) between the two commands: one more attempt claims it
    if (raw === null) {
      if (retried) throw new Error('idempotency key changed twice while being claimed');
      return this.claimIdempotency(workspaceId, key, callId, fingerprint, true);
    }
    const held = JSON.parse(raw) as { call_id: string; fingerprint: string };
    return { claimed: false, callId: held.call_id, fingerprint: held.fingerprint };
  }

  async releaseIdempotency(workspaceId: string, key: string, callId: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.keys.apiCallIdempotency(workspaceId, keyHash(key)), callId);
  }

  async publishHangup(id: string): Promise<void> {
    await this.redis.publish(this.keys.apiCallHangups, id);
  }
}
