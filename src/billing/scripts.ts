/** ARGV values per event in APPEND_LUA. */
export const APPEND_ARGS = 6;

/**
 * Lua run by Redis so that each billing append and its guards are one atomic step; one call of
 * the script appends a whole batch of one stream shard (every key below shares the shard's hash
 * tag, so one Redis Cluster slot).
 *
 * APPEND — KEYS: the shard's stream, the shard's owners hash, then per event: the call's seen hash,
 * the owner's open-call hash. ARGV: maxlen (0 = no trimming), dedupe TTL ms, then per event
 * APPEND_ARGS values: type, idempotency key, event JSON, mode, call id, owner.
 *
 * Modes (the seen hash records, per event type, the mode that appended it):
 * - plain: append unless this call's event type was appended already (retry / replay).
 * - open:  call.answered; also records the call as open under its owner, and the owner in the
 *          shard's owners hash (with Redis's time, so a peer sees how new it is).
 * - close: the owner's call.ended of an answered call: appends only if it removes the open record
 *          (HDEL returns 1 once). Its own earlier close → 0; a recovery got there first → -1, and
 *          the owner then appends a call.corrected with the real duration.
 * - reap:  a recovery's call.ended for an owner taken for dead: the same claim on the open record.
 *
 * Returns one result per event: 1 appended, 0 duplicate (already appended), -1 already closed by
 * someone else. A Redis error aborts the rest of the batch; the events before it stay appended
 * and are recognised as duplicates when the batch is retried.
 */
export const APPEND_LUA = `
local maxlen = tonumber(ARGV[1])
local ttl = ARGV[2]
local results = {}
local function append(seen, open, a)
  local type, json, mode, callId = ARGV[a], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local prior = redis.call('HGET', seen, type)
  if mode == 'close' then
    if prior == 'close' then return 0 end
    if redis.call('HDEL', open, callId) == 0 then return -1 end
  elseif prior then
    return 0
  elseif mode == 'reap' then
    if redis.call('HDEL', open, callId) == 0 then return -1 end
  elseif mode == 'open' then
    redis.call('HSET', open, callId, json)
    local t = redis.call('TIME')
    redis.call('HSETNX', KEYS[2], ARGV[a + 5], string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000)))
  end
  redis.call('HSET', seen, type, mode)
  redis.call('PEXPIRE', seen, ttl)
  if maxlen > 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'type', type, 'idempotency_key', ARGV[a + 1], 'event', json)
  else
    redis.call('XADD', KEYS[1], '*', 'type', type, 'idempotency_key', ARGV[a + 1], 'event', json)
  end
  return 1
end
for i = 0, (#KEYS - 2) / 2 - 1 do
  results[i + 1] = append(KEYS[3 + i * 2], KEYS[4 + i * 2], 3 + i * ${APPEND_ARGS})
end
return results
`;

/**
 * RETIRE — forgets an owner in one shard once it holds no open call there. KEYS: the owner's open
 * hash, the shard's owners hash. ARGV: owner. Returns 1 when retired, 0 when calls are still open.
 */
export const RETIRE_LUA = `
if redis.call('HLEN', KEYS[1]) > 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

/**
 * HEARTBEAT — KEYS: the heartbeat registry. ARGV: owner, the owner's clock (ms). Records
 * "<Redis ms>:<owner ms>" and returns { Redis ms, 1 if the owner was registered before }: liveness
 * is judged on Redis's clock (one clock for every instance), recovered durations on the owner's.
 */
export const HEARTBEAT_LUA = `
local t = redis.call('TIME')
local ms = t[1] * 1000 + math.floor(t[2] / 1000)
local had = redis.call('HEXISTS', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', ms) .. ':' .. ARGV[2])
return { ms, had }
`;

export const APPEND_RESULTS = { appended: 1, duplicate: 0, closed: -1 } as const;
