/**
 * Lua run by Redis for call admission. A call takes a slot of its trunk and one of its workspace;
 * each side is one script over the keys of one entity (one hash tag, so one Redis Cluster slot):
 * concurrent calls are a sorted set of leases that expire unless their instance refreshes them (a
 * dead instance's calls stop counting by themselves), calls per second a token bucket. A side takes
 * nothing unless both of its limits pass; the limiter runs both sides at once and gives back
 * what one side took when the other refused (GIVE_BACK_LUA).
 *
 * ARGV of both sides: now ms, lease member, lease expiry ms, lease ms, max calls, max cps (-1 = no
 * limit; the workspace side reads its own from the settings hash first).
 */
const SIDE = `
local now = tonumber(ARGV[1])
local function callsFull(key, max)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if max < 0 then return false end
  return redis.call('ZCARD', key) >= max
end
local function tokens(key, rate)
  if rate <= 0 then return nil end
  -- burst: 200 ms worth of calls (at least one), so a limit holds closely over any second
  local cap = math.max(1, rate / 5)
  local b = redis.call('HMGET', key, 't', 'ts')
  local t = tonumber(b[1]) or cap
  local ts = tonumber(b[2]) or now
  return math.min(cap, t + math.max(0, now - ts) * rate / 1000)
end
local function take(calls, cps, max, rate, fullCode)
  if callsFull(calls, max) then return fullCode end
  local t = tokens(cps, rate)
  if t ~= nil and t < 1 then return fullCode + 1 end
  redis.call('ZADD', calls, ARGV[3], ARGV[2])
  redis.call('PEXPIRE', calls, ARGV[4] * 2)
  if t ~= nil then
    redis.call('HSET', cps, 't', tostring(t - 1), 'ts', ARGV[1])
    redis.call('PEXPIRE', cps, 60000)
  end
  return 0
end
`;

/** KEYS: trunk calls, trunk cps. Result 0 (taken), 1 (calls full) or 2 (cps). */
export const ADMIT_TRUNK_LUA = `${SIDE}
return take(KEYS[1], KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]), 1)
`;

/** KEYS: workspace calls, workspace cps, workspace settings. Result 0 (taken), 3 (calls full) or 4 (cps). */
export const ADMIT_WORKSPACE_LUA = `${SIDE}
local max = tonumber(redis.call('HGET', KEYS[3], 'max_concurrent_calls') or ARGV[5])
local rate = tonumber(redis.call('HGET', KEYS[3], 'max_cps') or ARGV[6])
return take(KEYS[1], KEYS[2], max, rate, 3)
`;

/**
 * Gives back what one side took for a call the other side refused: the lease, and the token
 * (refilled up to the bucket's cap). KEYS: calls, cps[, settings]. ARGV: now ms, member, max cps of
 * the side (-1 = none; the workspace side reads its own from KEYS[3] first).
 */
export const GIVE_BACK_LUA = `
redis.call('ZREM', KEYS[1], ARGV[2])
local rate = tonumber(ARGV[3])
if KEYS[3] then rate = tonumber(redis.call('HGET', KEYS[3], 'max_cps') or ARGV[3]) end
if rate <= 0 then return 0 end
local b = redis.call('HMGET', KEYS[2], 't', 'ts')
if not b[1] then return 0 end
local now = tonumber(ARGV[1])
local cap = math.max(1, rate / 5)
local t = math.min(cap, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * rate / 1000 + 1)
redis.call('HSET', KEYS[2], 't', tostring(t), 'ts', ARGV[1])
return 1
`;
