-- Run by HistoryWriter (gateway/services/history/writer.py), once per queue. Read-only.
-- KEYS[1] the queue, KEYS[2] its failed registry, KEYS[3] its finished registry; ARGV job
-- prefix, from and to (RQ timestamps), the lowest registry score worth reading.
-- Returns {queue length, the head job's enqueued_at ('' when none), failed, finished}, each of
-- the last two a flat list {ended_at, started_at ('' when unknown), ...} of the entries whose
-- ended_at lies in [from, to). A registry's score is its expiry (ended_at + TTL, TTL >= 0, or
-- +inf), so an entry that ended at or after `from` never scores below it: the ZRANGEBYSCORE
-- skips what expires before `from`, and ended_at decides the rest.
local RQ_TIME = '^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$'
local prefix, min_score = ARGV[1], ARGV[4]
-- Digits only: equal-length digit strings order the same under any collation Redis runs with.
local from, to = string.gsub(ARGV[2], '%D', ''), string.gsub(ARGV[3], '%D', '')

local function of_type(key, kind)
  return redis.call('TYPE', key)['ok'] == kind
end

local length, enqueued = 0, ''
if of_type(KEYS[1], 'list') then
  length = redis.call('LLEN', KEYS[1])
  local head = redis.call('LINDEX', KEYS[1], 0)
  if head then
    -- pcall: a job key of the wrong type has no enqueued_at (damaged data reads as absent).
    local at = redis.pcall('HGET', prefix .. head, 'enqueued_at')
    if type(at) == 'string' then enqueued = at end
  end
end

local function ended_between(registry)
  local out = {}
  if not of_type(registry, 'zset') then return out end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', registry, min_score, '+inf')) do
    local times = redis.pcall('HMGET', prefix .. id, 'ended_at', 'started_at')
    if type(times) == 'table' and type(times[1]) == 'string' and string.match(times[1], RQ_TIME) then
      local ended = string.gsub(times[1], '%D', '')
      if ended >= from and ended < to then
        out[#out + 1] = times[1]
        out[#out + 1] = times[2] or ''
      end
    end
  end
  return out
end

return {length, enqueued, ended_between(KEYS[2]), ended_between(KEYS[3])}
