/**
 * Lua run by Redis for call admission: every limit of a call is checked and taken in one atomic
 * step. Concurrent calls per trunk and per workspace are sorted sets of leases that expire unless
 * their instance refreshes them (a dead instance's calls stop counting by themselves); calls per
 * second are token buckets. Nothing is taken unless every limit passes. A result is 0 (admitted)
 * or the number of the limit that refused (see REFUSALS in limiter.ts).
 *
 * Common ARGV: now ms, lease member, lease expiry ms, lease ms, trunk max calls, trunk max cps,
 * default workspace max calls, default workspace max cps (-1 = no limit).
 */
const ADMIT_FUNCTION = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
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
local function admit(tCalls, tCps, wCalls, wCps, wSettings)
  local tMax = tonumber(ARGV[5])
  local tRate = tonumber(ARGV[6])
  local wMax = tonumber(redis.call('HGET', wSettings, 'max_concurrent_calls') or ARGV[7])
  local wRate = tonumber(redis.call('HGET', wSettings, 'max_cps') or ARGV[8])
  if callsFull(tCalls, tMax) then return 1 end
  local tt = tokens(tCps, tRate)
  if tt ~= nil and tt < 1 then return 2 end
  if callsFull(wCalls, wMax) then return 3 end
  local wt = tokens(wCps, wRate)
  if wt ~= nil and wt < 1 then return 4 end
  redis.call('ZADD', tCalls, ARGV[3], member)
  redis.call('PEXPIRE', tCalls, ARGV[4] * 2)
  redis.call('ZADD', wCalls, ARGV[3], member)
  redis.call('PEXPIRE', wCalls, ARGV[4] * 2)
  if tt ~= nil then
    redis.call('HSET', tCps, 't', tostring(tt - 1), 'ts', ARGV[1])
    redis.call('PEXPIRE', tCps, 60000)
  end
  if wt ~= nil then
    redis.call('HSET', wCps, 't', tostring(wt - 1), 'ts', ARGV[1])
    redis.call('PEXPIRE', wCps, 60000)
  end
  return 0
end
`;

/** KEYS: trunk calls, trunk cps, workspace calls, workspace cps, workspace settings. */
export const ADMIT_LUA = `${ADMIT_FUNCTION}
return admit(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
`;

/** The second element of ADMIT_NUMBER's reply when it did not try to admit. */
export const NOT_TRIED = -1;

/**
 * Reads a number record and, in the same step, admits the call when the record is an active
 * number with inbound routing: one round trip for the route lookup and the limits of a call whose
 * route is not cached. The workspace comes from the record, so its keys are named here from the
 * templates in ARGV 9-14 (prefix and suffix of the workspace calls, cps and settings keys); in
 * cluster mode every key carries the prefix's hash tag, so they are in the script's slot.
 * KEYS: number record, trunk calls, trunk cps. Reply: { record JSON or nil, result or NOT_TRIED,
 * workspace id when tried }.
 */
export const ADMIT_NUMBER_LUA = `${ADMIT_FUNCTION}
local raw = redis.call('GET', KEYS[1])
if not raw then return { false, ${NOT_TRIED} } end
local ok, record = pcall(cjson.decode, raw)
if not ok or type(record) ~= 'table' or record.status ~= 'active' or type(record.inbound_routing) ~= 'table' or type(record.workspace_id) ~= 'string' then
  return { raw, ${NOT_TRIED} }
end
local ws = record.workspace_id
return { raw, admit(KEYS[2], KEYS[3], ARGV[9] .. ws .. ARGV[10], ARGV[11] .. ws .. ARGV[12], ARGV[13] .. ws .. ARGV[14]), ws }
`;
