import { randomBytes } from 'node:crypto';
import type { RedisKeys } from './keys.js';
import { isCluster, type RedisClient } from './redis.js';
import { hashTagOf, keySlot } from './slots.js';

/**
 * Compare-and-apply in one Lua script per slot: every guard is checked against what the caller
 * read, and only if all still hold are the operations applied; a rejected write changes nothing,
 * and no WATCH state is shared between concurrent admin requests.
 *
 * Standalone and Sentinel run the whole write as one script. On Redis Cluster a write whose keys
 * fall in several slots (a number and the number index, say) runs in two phases: `prepare` checks
 * each slot's guards and takes a short write lock on each hash tag the write touches (refusing if
 * another writer holds one), then `apply` applies each slot's operations and drops the locks. A
 * guard failing in `prepare` releases the locks taken and changes nothing. Every catalog write on a
 * cluster checks those locks, so writers never interleave; readers (the call path) may see the
 * slots of one write land a moment apart.
 */
const SCRIPT = `
local plan = cjson.decode(ARGV[1])
local tok = plan.t
if plan.m == 'release' then
  for _, l in ipairs(plan.l) do
    if redis.call('GET', KEYS[l]) == tok then redis.call('DEL', KEYS[l]) end
  end
  return 0
end
for _, l in ipairs(plan.l) do
  local holder = redis.call('GET', KEYS[l])
  if holder and holder ~= tok then return -1 end
end
for i, g in ipairs(plan.g) do
  local key = KEYS[g[2]]
  if g[1] == 'eq' then
    local v = redis.call('GET', key)
    if v ~= g[3] then return i end
  elseif g[1] == 'empty' then
    if redis.call('SCARD', key) ~= 0 then return i end
  end
end
if plan.m == 'prepare' then
  for _, l in ipairs(plan.l) do redis.call('SET', KEYS[l], tok, 'PX', plan.ttl) end
  return 0
end
for _, o in ipairs(plan.o) do
  local op = o[1]
  local key = KEYS[o[2]]
  if op == 'set' then redis.call('SET', key, o[3])
  elseif op == 'del' then redis.call('DEL', key)
  elseif op == 'zadd' then redis.call('ZADD', key, 0, o[3])
  elseif op == 'zrem' then redis.call('ZREM', key, o[3])
  elseif op == 'sadd' then redis.call('SADD', key, o[3])
  elseif op == 'srem' then redis.call('SREM', key, o[3])
  end
end
for _, l in ipairs(plan.l) do
  if redis.call('GET', KEYS[l]) == tok then redis.call('DEL', KEYS[l]) end
end
for _, p in ipairs(plan.p) do redis.call('PUBLISH', p[1], p[2]) end
return 0
`;

/** How long a prepared write may hold its locks (a writer that died between phases frees them by expiry). */
const LOCK_TTL_MS = 5000;

export type Guard =
  /** GET key equals value; false = the key must not exist */
  | { kind: 'eq'; key: string; value: string | false }
  /** the set at key is empty */
  | { kind: 'empty'; key: string };

export type Op =
  | { op: 'set'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'zadd' | 'zrem' | 'sadd' | 'srem'; key: string; member: string };

export interface AtomicWrite {
  readonly guards: readonly Guard[];
  readonly ops: readonly Op[];
  readonly publish: readonly (readonly [channel: string, message: string])[];
}

interface ScriptClient {
  sipEdgeApplyAtomic(numKeys: number, ...args: string[]): Promise<number>;
}

function scriptClient(redis: RedisClient): ScriptClient {
  const candidate = redis as unknown as Partial<ScriptClient>;
  if (typeof candidate.sipEdgeApplyAtomic !== 'function') redis.defineCommand('sipEdgeApplyAtomic', { lua: SCRIPT });
  return redis as unknown as ScriptClient;
}

type Mode = 'apply' | 'prepare' | 'release';

/** The part of a write that lives in one slot, as KEYS and a plan for the script. */
class SlotPart {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  readonly guards: unknown[] = [];
  readonly ops: unknown[] = [];
  readonly locks: number[] = [];

  ref(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      this.keys.push(key);
      i = this.keys.length;
      this.index.set(key, i);
    }
    return i;
  }

  addLocks(lockKeys: Iterable<string>): void {
    for (const key of lockKeys) this.locks.push(this.ref(key));
  }

  run(redis: RedisClient, mode: Mode, token: string, publish: AtomicWrite['publish']): Promise<number> {
    const plan = { m: mode, t: token, ttl: LOCK_TTL_MS, l: this.locks, g: this.guards, o: this.ops, p: publish };
    return scriptClient(redis).sipEdgeApplyAtomic(this.keys.length, ...this.keys, JSON.stringify(plan));
  }
}

/**
 * Returns true when applied, false when a guard failed or another writer held a lock (someone
 * wrote in between: read again and retry).
 */
export async function applyAtomic(redis: RedisClient, keys: RedisKeys, write: AtomicWrite): Promise<boolean> {
  const cluster = isCluster(redis);
  const parts = new Map<number, SlotPart>();
  const tags = new Map<number, Set<string>>();
  const partOf = (key: string): SlotPart => {
    const slot = cluster ? keySlot(key) : 0;
    let part = parts.get(slot);
    if (!part) {
      part = new SlotPart();
      parts.set(slot, part);
      tags.set(slot, new Set());
    }
    if (cluster) tags.get(slot)!.add(keys.lock(hashTagOf(key)));
    return part;
  };
  for (const g of write.guards) {
    const part = partOf(g.key);
    part.guards.push(g.kind === 'eq' ? ['eq', part.ref(g.key), g.value] : ['empty', part.ref(g.key)]);
  }
  for (const o of write.ops) {
    const part = partOf(o.key);
    part.ops.push(o.op === 'set' ? ['set', part.ref(o.key), o.value] : o.op === 'del' ? ['del', part.ref(o.key)] : [o.op, part.ref(o.key), o.member]);
  }
  for (const [slot, part] of parts) part.addLocks(tags.get(slot)!);
  const all = [...parts.values()];
  if (all.length <= 1) {
    const part = all[0] ?? new SlotPart();
    return (await part.run(redis, 'apply', '', write.publish)) === 0;
  }

  const token = randomBytes(8).toString('hex');
  const prepared = await Promise.allSettled(all.map((p) => p.run(redis, 'prepare', token, [])));
  if (prepared.some((r) => r.status === 'rejected' || r.value !== 0)) {
    await Promise.allSettled(all.map((p) => p.run(redis, 'release', token, [])));
    const failed = prepared.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return false;
  }
  // Every slot is locked and its guards hold: apply them all, then tell the caches (not before:
  // an instance that re-read on the invalidation must find every slot written).
  await Promise.all(all.map((p) => p.run(redis, 'apply', token, [])));
  await Promise.all(write.publish.map(([channel, message]) => redis.publish(channel, message)));
  return true;
}
