import type { RedisClient } from './redis.js';

/**
 * Compare-and-apply in one Lua script: every guard is checked against what the caller read, and
 * only if all still hold are the operations applied. A rejected write changes nothing, and no
 * WATCH connection state is shared between concurrent admin requests.
 */
const SCRIPT = `
local plan = cjson.decode(ARGV[1])
for i, g in ipairs(plan.g) do
  local key = KEYS[g[2]]
  if g[1] == 'eq' then
    local v = redis.call('GET', key)
    if v ~= g[3] then return i end
  elseif g[1] == 'empty' then
    if redis.call('SCARD', key) ~= 0 then return i end
  end
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
for _, p in ipairs(plan.p) do redis.call('PUBLISH', p[1], p[2]) end
return 0
`;

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
  applyAtomic(numKeys: number, ...args: string[]): Promise<number>;
}

function scriptClient(redis: RedisClient): ScriptClient {
  const candidate = redis as unknown as Partial<ScriptClient>;
  if (typeof candidate.applyAtomic !== 'function') redis.defineCommand('applyAtomic', { lua: SCRIPT });
  return redis as unknown as ScriptClient;
}

/** Returns true when applied, false when a guard failed (someone wrote in between). */
export async function applyAtomic(redis: RedisClient, write: AtomicWrite): Promise<boolean> {
  const keys: string[] = [];
  const index = new Map<string, number>();
  const ref = (key: string): number => {
    let i = index.get(key);
    if (i === undefined) {
      keys.push(key);
      i = keys.length;
      index.set(key, i);
    }
    return i;
  };
  const plan = {
    g: write.guards.map((g) => (g.kind === 'eq' ? ['eq', ref(g.key), g.value] : ['empty', ref(g.key)])),
    o: write.ops.map((o) => (o.op === 'set' ? ['set', ref(o.key), o.value] : o.op === 'del' ? ['del', ref(o.key)] : [o.op, ref(o.key), o.member])),
    p: write.publish,
  };
  const failed = await scriptClient(redis).applyAtomic(keys.length, ...keys, JSON.stringify(plan));
  return failed === 0;
}
