/** ARGV values per event in APPEND_LUA. */
export const APPEND_ARGS = 8;

/**
 * Lua run by Redis so that each billing append and its guards are one atomic step; one call of
 * the script appends a whole batch (one round trip and one command for many events).
 *
 * APPEND — KEYS: stream, heartbeat registry, then per event: seen hash of the call, open-call
 * hash of the owner, liveness key of the owner. ARGV: maxlen (0 = no trimming), dedupe TTL ms,
 * then per event APPEND_ARGS values: type, idempotency key, event JSON, mode, call id, owner,
 * answered-at ms, force ("1" = reap even if the owner's liveness key exists).
 *
 * Modes:
 * - plain: append unless this call's event type was appended already (retry / replay).
 * - open:  call.answered; also records the call as open under its owner (and registers the owner).
 * - close: call.ended of an answered call; appends only if it removes the open record (HDEL
 *          returns 1 once), so the normal end and a recovery can never both append a call.ended.
 * - reap:  close for an owner that died: refused while the owner's liveness key exists (unless
 *          force: an earlier life of this very instance).
 *
 * Returns one result per event: 1 appended, 0 duplicate (already appended), -1 already closed by
 * someone else, -2 owner alive (reap refused). A Redis error aborts the rest of the batch; the
 * events before it stay appended and are recognised as duplicates when the batch is retried.
 */
export const APPEND_LUA = `
local maxlen = tonumber(ARGV[1])
local ttl = ARGV[2]
local results = {}
local function append(seen, open, alive, a)
  local type, callId = ARGV[a], ARGV[a + 4]
  if redis.call('HEXISTS', seen, type) == 1 then return 0 end
  local mode = ARGV[a + 3]
  if mode == 'reap' and ARGV[a + 7] ~= '1' and redis.call('EXISTS', alive) == 1 then return -2 end
  if mode == 'close' or mode == 'reap' then
    if redis.call('HDEL', open, callId) == 0 then return -1 end
  elseif mode == 'open' then
    redis.call('HSET', open, callId, ARGV[a + 2])
    redis.call('HSETNX', KEYS[2], ARGV[a + 5], ARGV[a + 6])
  end
  redis.call('HSET', seen, type, '1')
  redis.call('PEXPIRE', seen, ttl)
  if maxlen > 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'type', type, 'idempotency_key', ARGV[a + 1], 'event', ARGV[a + 2])
  else
    redis.call('XADD', KEYS[1], '*', 'type', type, 'idempotency_key', ARGV[a + 1], 'event', ARGV[a + 2])
  end
  return 1
end
for i = 0, (#KEYS - 2) / 3 - 1 do
  results[i + 1] = append(KEYS[3 + i * 3], KEYS[4 + i * 3], KEYS[5 + i * 3], 3 + i * ${APPEND_ARGS})
end
return results
`;

/**
 * RETIRE — forgets an owner that holds no open call any more. KEYS: open hash, heartbeat registry,
 * liveness key. ARGV: owner. Returns 1 when retired, 0 when calls are still open.
 */
export const RETIRE_LUA = `
if redis.call('HLEN', KEYS[1]) > 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
return 1
`;

export const APPEND_RESULTS = { appended: 1, duplicate: 0, closed: -1, ownerAlive: -2 } as const;
