-- Shared helpers, prepended to every script but cancel.lua (gateway/services/redis/scripts.py).
-- Registry entries whose score lies in [0, now] are ones RQ's own cleanup would delete; every
-- script treats them as absent and never writes them. Scores below 0 (failure_ttl=-1) never expire.
-- Damaged data (gateway/services/redis/damaged.py): a key of another Redis type reads as absent.

-- Arguments per variadic call (ZREM, RPUSH, DEL of many), well under Lua's unpack limit (8,000).
local BATCH = 1000
local function type_of(key)
  local found = redis.call('TYPE', key)
  return found.ok or found
end
local function of_type(key, wanted)
  local found = type_of(key)
  return found == wanted or found == 'none'
end

-- The reply of a redis.pcall, false when it failed (a key of another type: absent).
local function absent_if_error(reply)
  if type(reply) == 'table' and reply.err then return false end
  return reply
end

-- Whether s is well-formed UTF-8: the gateway never writes a name it could not decode.
local function is_utf8(s)
  -- ASCII, the common case, is checked by one C-level pattern search, not byte by byte.
  if not string.find(s, '[\128-\255]') then return true end
  local i, n = 1, #s
  while i <= n do
    local c = string.byte(s, i)
    local extra
    if c < 0x80 then extra = 0
    elseif c >= 0xC2 and c <= 0xDF then extra = 1
    elseif c >= 0xE0 and c <= 0xEF then extra = 2
    elseif c >= 0xF0 and c <= 0xF4 then extra = 3
    else return false end
    if i + extra > n then return false end
    for j = i + 1, i + extra do
      local d = string.byte(s, j)
      if d < 0x80 or d > 0xBF then return false end
    end
    local d = string.byte(s, i + 1)
    if (c == 0xE0 and d < 0xA0) or (c == 0xED and d > 0x9F)
       or (c == 0xF0 and d < 0x90) or (c == 0xF4 and d > 0x8F) then
      return false
    end
    i = i + extra + 1
  end
  return true
end

-- A failed job's failure time from its hash's ended_at and last_heartbeat: RQ leaves ended_at
-- empty on a job a stop command ended, whose last heartbeat is the worker's last sign of it
-- (history/sample.py reads it the same way). False when neither is set.
local function failed_at(ended, heartbeat)
  if ended and ended ~= '' then return ended end
  if heartbeat and heartbeat ~= '' then return heartbeat end
  return false
end

-- The exc_string of a results stream's newest entry (the traceback RQ 2 and later keep there),
-- false when there is none or the key is not a stream: cause_fields.lua and job_fields.lua read
-- the same field the same way, so groups, filters and search match the same traceback.
local function newest_exc_string(results)
  local latest = absent_if_error(redis.pcall('XREVRANGE', results, '+', '-', 'COUNT', 1))
  if not (latest and latest[1]) then return false end
  local kv = latest[1][2]
  for j = 1, #kv, 2 do
    if kv[j] == 'exc_string' then return kv[j + 1] end
  end
  return false
end

local function live_bounds(key, now)
  local neg = redis.call('ZCOUNT', key, '-inf', '(0')
  local expired = redis.call('ZCOUNT', key, 0, now)
  return neg, expired, redis.call('ZCARD', key)
end

-- memcmp order, as Redis sorts equal-score members (Lua's own < follows the locale).
local function id_le(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end

-- First rank whose (score, id) comes after the cursor (score, id); with `at`, the first that
-- does not come before it (the cursor's own rank when it is there).
local function rank_after(key, score, id, at)
  local lo = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local hi = lo + redis.call('ZCOUNT', key, score, score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member = redis.call('ZRANGE', key, mid, mid)[1]
    if id_le(member, id) and not (at and member == id) then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- Up to `limit` live entries starting at rank `start`, as flat {id, score, ...}.
local function live_from(key, start, limit, neg, expired, card)
  local out = {}
  if start >= neg and start < neg + expired then start = neg + expired end
  while limit > 0 and start < card do
    local stop = card - 1
    if start < neg then stop = neg - 1 end
    stop = math.min(stop, start + limit - 1)
    local got = redis.call('ZRANGE', key, start, stop, 'WITHSCORES')
    for i = 1, #got do out[#out + 1] = got[i] end
    limit = limit - (stop - start + 1)
    start = stop + 1
    if start == neg then start = neg + expired end
  end
  return out
end

local function to_score(s)
  if s == 'inf' or s == '+inf' then return math.huge end
  if s == '-inf' then return -math.huge end
  return tonumber(s)
end

local function is_live(score, now)
  return score < 0 or score > now
end

-- Remove the ids a script claimed from the registry, and from the history's seen set of it
-- (redis/keys.py) in the same step: a job retried (or deleted and enqueued again under its id)
-- that fails again counts again, and the history writer has no gone ids to find. A seen set that
-- is absent (no history) or of another type (damaged) is left alone.
local function take_out(reg, seen, ids)
  for first = 1, #ids, BATCH do
    redis.call('ZREM', reg, unpack(ids, first, math.min(first + BATCH - 1, #ids)))
  end
  if #ids > 0 and type_of(seen) == 'zset' then
    for first = 1, #ids, BATCH do
      redis.call('ZREM', seen, unpack(ids, first, math.min(first + BATCH - 1, #ids)))
    end
  end
end

-- Whether id is a live entry of the registry that this call has not claimed yet. `listed`: the
-- caller (operation_walk.lua) read the ids as live entries in this same atomic call, so the
-- ZSCORE would only repeat what it knows.
local function claimable(reg, reg_readable, id, now, claimed, listed)
  if claimed[id] or not reg_readable then return false end
  if listed then return true end
  local score = redis.call('ZSCORE', reg, id)
  return score and is_live(to_score(score), now)
end
