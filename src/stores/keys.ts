import { assertOneSlot, hashTagOf, keySlot, SLOTS } from './slots.js';

/**
 * Every Redis key and channel name sip-edge uses, under one prefix, laid out for Redis Cluster:
 * each entity's keys carry that entity's own hash tag (`trunk:{trk_1}`, `trunk:{trk_1}:calls`,
 * `num:{+15550001001}`), so the keys one script touches share a slot while different entities
 * spread over every master. The prefix itself must carry no brace (config refuses one): a tag in
 * it would put every key in one slot. `checkKeyLayout` proves at start-up that each script's keys
 * stay in one slot. Standalone and Sentinel use the same names.
 */
export type EntityKind = 'trunk' | 'agent' | 'number';

/** One shard of the billing stream: the stream and every key its append script touches, in one slot. */
export interface BillingShard {
  readonly index: number;
  /** the hash tag shared by the shard's keys */
  readonly tag: string;
  readonly stream: string;
  /** Hash of the event types of one call already appended (field = type, value = mode), with a TTL. */
  seen(callId: string): string;
  /** Hash of one owner's (instance + boot) answered calls of this shard not yet ended: call id -> call.answered JSON. */
  open(owner: string): string;
  /** Hash owner -> first registration: the owners that hold (or held) open calls in this shard. */
  readonly owners: string;
}

export interface RedisKeys {
  readonly prefix: string;
  /** The billing stream's shards: `count` streams read together (1 = the single stream prefix+name). */
  billingShards(stream: string, count: number): readonly BillingShard[];
  /** Hash of owner -> last heartbeat ("<Redis ms>:<owner's ms>"): the registry of running owners. */
  readonly billingHeartbeats: string;
  trunk(id: string): string;
  agent(id: string): string;
  /** Number record, keyed by E.164: the call path reads it in one GET. */
  number(e164: string): string;
  /** Number id -> E.164. */
  numberId(id: string): string;
  /** Sorted set (all scores 0) of the ids of one kind, for lexical cursor pagination. */
  index(kind: EntityKind): string;
  /** Set of number ids that reference an agent or a trunk (blocks deleting what is in use); in the slot of the agent/trunk. */
  refs(kind: 'agent' | 'trunk', id: string): string;
  /** Short-lived write lock of one hash tag, taken by catalog writes that span slots (see atomic.ts). */
  lock(tag: string): string;
  /** Pub/sub channel of cache invalidations. */
  readonly invalidations: string;
  /** Sorted set of call leases (member instance:call, score = lease expiry ms) of a trunk or workspace. */
  activeCalls(scope: 'trunk' | 'workspace', id: string): string;
  /** Token bucket (hash t=tokens, ts=last refill ms) of a trunk or workspace. */
  cpsBucket(scope: 'trunk' | 'workspace', id: string): string;
  /** Per-workspace settings (hash: max_concurrent_calls, max_cps, allowed_countries as JSON). */
  workspaceSettings(id: string): string;
  /** Sorted set (all scores 0) of the E.164 numbers on a do-not-call list: one workspace's, or the platform's. */
  dnc(scope: DncScope): string;
  /** Hash of the same list's entries: E.164 -> JSON {reason, added_at}. */
  dncEntries(scope: DncScope): string;
  /** JSON record of one API-placed call (state, timestamps), with a TTL. */
  apiCall(id: string): string;
  /** Idempotency-Key of a POST /v1/calls (hashed, per workspace) -> JSON {call_id, fingerprint}, with a TTL. */
  apiCallIdempotency(workspaceId: string, keyHash: string): string;
  /** Pub/sub channel: hang up this API call (published by whichever instance got the DELETE). */
  readonly apiCallHangups: string;
  /** A test-call token that was presented (single use), kept until the token expires. */
  testCallToken(jti: string): string;
}

/** A do-not-call list: one workspace's, or the platform-wide one. */
export type DncScope = { readonly kind: 'workspace'; readonly workspaceId: string } | { readonly kind: 'platform' };

const dncScopeName = (scope: DncScope): string => (scope.kind === 'platform' ? 'platform' : `ws:${scope.workspaceId}`);

export function redisKeys(prefix: string): RedisKeys {
  const shardCache = new Map<string, readonly BillingShard[]>();
  const scope = (s: 'trunk' | 'workspace', id: string): string => (s === 'trunk' ? `${prefix}trunk:{${id}}` : `${prefix}ws:{${id}}`);
  return {
    prefix,
    billingShards(stream, count) {
      const cacheKey = `${count}|${stream}`;
      let shards = shardCache.get(cacheKey);
      if (!shards) {
        shards = Array.from({ length: count }, (_, i) => billingShard(prefix, stream, i, count));
        shardCache.set(cacheKey, shards);
      }
      return shards;
    },
    billingHeartbeats: `${prefix}billing:heartbeats`,
    trunk: (id) => `${prefix}trunk:{${id}}`,
    agent: (id) => `${prefix}agent:{${id}}`,
    number: (e164) => `${prefix}num:{${e164}}`,
    numberId: (id) => `${prefix}numid:{${id}}`,
    index: (kind) => `${prefix}idx:{${kind}}`,
    refs: (kind, id) => `${prefix}${kind}:{${id}}:refs`,
    lock: (tag) => `${prefix}lock:{${tag}}`,
    invalidations: `${prefix}invalidate`,
    activeCalls: (s, id) => `${scope(s, id)}:calls`,
    cpsBucket: (s, id) => `${scope(s, id)}:cps`,
    workspaceSettings: (id) => `${prefix}ws:{${id}}`,
    // one hash tag per list: a list's set and its entries are written together (one script, one MULTI)
    dnc: (scope) => `${prefix}dnc:{${dncScopeName(scope)}}:set`,
    dncEntries: (scope) => `${prefix}dnc:{${dncScopeName(scope)}}:entries`,
    apiCall: (id) => `${prefix}apicall:{${id}}`,
    apiCallIdempotency: (workspaceId, keyHash) => `${prefix}apicall:idem:{${workspaceId}:${keyHash}}`,
    apiCallHangups: `${prefix}apicall:hangup`,
    testCallToken: (jti) => `${prefix}testcall:{${jti}}`,
  };
}

/**
 * Shard i of n. One shard keeps the historical single stream `prefix+name` (its co-located keys
 * use that whole name as their tag, which hashes like the untagged stream key). With n > 1 each
 * shard's tag is chosen so that the shards' slots fall in n equal parts of the slot space: the
 * shards (and the per-call keys that follow them) then spread over the masters in proportion to
 * the slots each one serves, whatever n is.
 */
function billingShard(prefix: string, stream: string, i: number, n: number): BillingShard {
  let tag: string;
  let streamKey: string;
  if (n === 1) {
    streamKey = `${prefix}${stream}`;
    tag = streamKey;
  } else {
    const low = Math.floor((i * SLOTS) / n);
    const high = Math.floor(((i + 1) * SLOTS) / n);
    let j = 0;
    tag = `${stream}#${i}`;
    while (keySlot(`{${tag}}`) < low || keySlot(`{${tag}}`) >= high) tag = `${stream}#${i}.${++j}`;
    streamKey = `${prefix}${stream}:{${tag}}`;
  }
  return {
    index: i,
    tag,
    stream: streamKey,
    seen: (callId) => `${prefix}billing:seen:{${tag}}:${callId}`,
    open: (owner) => `${prefix}billing:open:{${tag}}:${owner}`,
    owners: `${prefix}billing:owners:{${tag}}`,
  };
}

/** The shard of a call: FNV-1a of the call id modulo the shard count (stable across instances). */
export function billingShardOf(callId: string, count: number): number {
  if (count === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < callId.length; i++) {
    h ^= callId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/**
 * The start-up self-check: for every script, transaction and batch sip-edge runs, the slots of the
 * keys it would touch (for sample ids, braces included) must be one; and different entities must
 * not all share a slot (a layout that does not shard). Throws an error naming the key otherwise.
 */
export function checkKeyLayout(keys: RedisKeys, billing: { stream: string; shards: number }): void {
  const ids = ['trk_1', 'a}b', 'x{y}z', '+15550001001', 'ws_1', '{}'];
  const owner = 'edge-1~a1b2c3';
  for (const id of ids) {
    assertOneSlot({ what: 'the trunk admission script', keys: [keys.activeCalls('trunk', id), keys.cpsBucket('trunk', id)] });
    assertOneSlot({
      what: 'the workspace admission script',
      keys: [keys.activeCalls('workspace', id), keys.cpsBucket('workspace', id), keys.workspaceSettings(id)],
    });
    assertOneSlot({ what: 'a trunk write', keys: [keys.trunk(id), keys.refs('trunk', id), keys.lock(hashTagOf(keys.trunk(id)))] });
    assertOneSlot({ what: 'an agent write', keys: [keys.agent(id), keys.refs('agent', id), keys.lock(hashTagOf(keys.agent(id)))] });
    assertOneSlot({ what: 'a number write', keys: [keys.number(id), keys.lock(hashTagOf(keys.number(id)))] });
  }
  for (const shard of keys.billingShards(billing.stream, billing.shards)) {
    for (const callId of ['c1@carrier', 'a{b}c', '}{']) {
      assertOneSlot({ what: `the billing append of shard ${shard.index}`, keys: [shard.stream, shard.owners, shard.seen(callId), shard.open(owner)] });
    }
  }
  const spread = new Set(['+15550001001', '+15550001002', '+15550001003', '+15550001004'].map((n) => keySlot(keys.number(n))));
  if (spread.size === 1) {
    throw new Error(`key layout: every number key lands in slot ${[...spread][0]}: the prefix ${JSON.stringify(keys.prefix)} must not carry a hash tag`);
  }
}

/** What an invalidation message says changed. */
export interface Invalidation {
  readonly kind: EntityKind;
  /** trunk/agent id, or the E.164 of a number */
  readonly key: string;
}

export function encodeInvalidation(inv: Invalidation): string {
  return `${inv.kind}|${inv.key}`;
}

export function decodeInvalidation(message: string): Invalidation | null {
  const bar = message.indexOf('|');
  if (bar < 0) return null;
  const kind = message.slice(0, bar);
  if (kind !== 'trunk' && kind !== 'agent' && kind !== 'number') return null;
  return { kind, key: message.slice(bar + 1) };
}
