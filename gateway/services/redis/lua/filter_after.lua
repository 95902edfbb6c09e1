-- Run by FilteredView (gateway/services/reads/filtered.py), after prelude.lua. Read-only.
-- KEYS[1] registry; ARGV now, limit, budget, job prefix, after ('' none), before ('' none),
-- [cursor score, cursor id]. Returns {live_total, {id, score, ...} matches, {id, score} of the last
-- entry examined (empty when none), 1 when the end of the registry was reached}.
local function bytes_lt(a, b)
  return a ~= b and id_le(a, b)
end
local RQ_TIME = '^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$'
local key, now = KEYS[1], tonumber(ARGV[1])
local limit, budget = tonumber(ARGV[2]), tonumber(ARGV[3])
local job_prefix, after, before = ARGV[4], ARGV[5], ARGV[6]
if not of_type(key, 'zset') then return {0, {}, {}, 1} end
local neg, expired, card = live_bounds(key, now)
local start = 0
if ARGV[7] then start = rank_after(key, ARGV[7], ARGV[8]) end
local scanned = live_from(key, start, budget, neg, expired, card)
local out, last, complete = {}, {}, true
for i = 1, #scanned, 2 do
  local id, score = scanned[i], scanned[i + 1]
  last = {id, score}
  -- pcall: a job key of the wrong type has no failure time (damaged data reads as absent).
  local times = absent_if_error(redis.pcall('HMGET', job_prefix .. id, 'ended_at', 'last_heartbeat'))
  local ended = times and failed_at(times[1], times[2])
  if type(ended) == 'string' and string.match(ended, RQ_TIME)
     and (after == '' or not bytes_lt(ended, after))
     and (before == '' or bytes_lt(ended, before)) then
    out[#out + 1] = id
    out[#out + 1] = score
    if #out >= 2 * limit then
      complete = (i + 1 == #scanned)
      if not complete then break end
    end
  end
end
local done = 0
if complete and #scanned < 2 * budget then done = 1 end
return {card - expired, out, last, done}
