/**
 * Lua run by Redis so that each billing append and its guards are one atomic step.
 *
 * APPEND — KEYS: stream, seen hash of the call, open-call hash of the owner, heartbeat registry,
 * liveness key of the owner. ARGV: type, idempotency key, event JSON, mode, call id, maxlen
 * (0 = no trimming), dedupe TTL ms, owner, answered-at ms, force ("1" = reap even if the owner's
 * liveness key exists).
 *
 * Modes:
 * - plain: append unless this call's event type was appended already (retry / replay).
 * - open:  call.answered; also records the call as open under its owner (and registers the owner).
 * - close: call.ended of an answered call; appends only if it removes the open record (HDEL
 *          returns 1 once), so the normal end and a recovery can never both append a call.ended.
 * - reap:  close for an owner that died: refused while the owner's liveness key exists (unless
 *          force: an earlier life of this very instance).
 *
 * Returns 1 appended, 0 duplicate (already appended), -1 already closed by someone else,
 * -2 owner alive (reap refused).
 */
export const APPEND_LUA = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local mode = ARGV[4]
if mode == 'reap' and ARGV[10] ~= '1' and redis.call('EXISTS', KEYS[5]) == 1 then return -2 end
if mode == 'close' or mode == 'reap' then
  if redis.call('HDEL', KEYS[3], ARGV[5]) == 0 then return -1 end
elseif mode == 'open' then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[3])
  redis.call('HSETNX', KEYS[4], ARGV[8], ARGV[9])
end
redis.call('HSET', KEYS[2], ARGV[1], '1')
redis.call('PEXPIRE', KEYS[2], ARGV[7])
local maxlen = tonumber(ARGV[6])
if maxlen > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'type', ARGV[1], 'idempotency_key', ARGV[2], 'event', ARGV[3])
else
  redis.call('XADD', KEYS[1], '*', 'type', ARGV[1], 'idempotency_key', ARGV[2], 'event', ARGV[3])
end
return 1
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
