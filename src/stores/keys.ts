/**
 * Every Redis key and channel name sip-edge uses, under one prefix. In cluster mode the prefix
 * carries a hash tag ("{sipedge}:") so that multi-key atomic writes stay in one slot.
 */
export type EntityKind = 'trunk' | 'agent' | 'number';

export interface RedisKeys {
  readonly prefix: string;
  /** Billing event stream (name from billing.stream). */
  billingStream(name: string): string;
  /** Hash of the event types of one call already appended (field = event type), with a TTL. */
  billingSeen(callId: string): string;
  /** Hash of one owner's (instance + boot) answered calls not yet ended: call id -> call.answered JSON. */
  billingOpen(owner: string): string;
  /** Hash of owner -> last heartbeat (ms): the registry of owners that may hold open calls. */
  readonly billingHeartbeats: string;
  /** Liveness key of one owner, refreshed with a TTL while the owner runs. */
  billingAlive(owner: string): string;
  trunk(id: string): string;
  agent(id: string): string;
  /** Number record, keyed by E.164: the call path reads it in one GET. */
  number(e164: string): string;
  /** Number id -> E.164. */
  numberId(id: string): string;
  /** Sorted set (all scores 0) of the ids of one kind, for lexical cursor pagination. */
  index(kind: EntityKind): string;
  /** Set of number ids that reference an agent or a trunk (blocks deleting what is in use). */
  refs(kind: 'agent' | 'trunk', id: string): string;
  /** Pub/sub channel of cache invalidations. */
  readonly invalidations: string;
  /** Sorted set of call leases (member instance:call, score = lease expiry ms) of a trunk or workspace. */
  activeCalls(scope: 'trunk' | 'workspace', id: string): string;
  /** Token bucket (hash t=tokens, ts=last refill ms) of a trunk or workspace. */
  cpsBucket(scope: 'trunk' | 'workspace', id: string): string;
  /** Per-workspace settings (hash: max_concurrent_calls, max_cps, allowed_countries as JSON). */
  workspaceSettings(id: string): string;
  /** A test-call token that was presented (single use), kept until the token expires. */
  testCallToken(jti: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    billingStream: (name) => `${prefix}${name}`,
    billingSeen: (callId) => `${prefix}billing:seen:${callId}`,
    billingOpen: (owner) => `${prefix}billing:open:${owner}`,
    billingHeartbeats: `${prefix}billing:heartbeats`,
    billingAlive: (owner) => `${prefix}billing:alive:${owner}`,
    trunk: (id) => `${prefix}trunk:${id}`,
    agent: (id) => `${prefix}agent:${id}`,
    number: (e164) => `${prefix}num:${e164}`,
    numberId: (id) => `${prefix}numid:${id}`,
    index: (kind) => `${prefix}idx:${kind}`,
    refs: (kind, id) => `${prefix}refs:${kind}:${id}`,
    invalidations: `${prefix}invalidate`,
    activeCalls: (scope, id) => `${prefix}limit:calls:${scope}:${id}`,
    cpsBucket: (scope, id) => `${prefix}limit:cps:${scope}:${id}`,
    workspaceSettings: (id) => `${prefix}ws:${id}`,
    testCallToken: (jti) => `${prefix}testcall:${jti}`,
  };
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
