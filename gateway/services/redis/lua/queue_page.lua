-- Run by Browser (gateway/services/reads/browse.py), after prelude.lua.
-- KEYS[1] a queue (list, head = next to run); ARGV limit, direction ('asc' from the head,
-- 'desc' from the tail), [cursor job id]. A cursor is the last job id seen, found again by
-- value (LPOS), so jobs taken from the head or pushed at either end never shift a page. When
-- that job has left the queue, 'asc' restarts at the head (in a FIFO queue a job leaves with
-- every job ahead of it) and 'desc' ends. Returns {length, {id, ...}}.
local key, limit, direction, after = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3]
if not of_type(key, 'list') then return {0, {}} end
local length = redis.call('LLEN', key)
if limit <= 0 then return {length, {}} end
if direction == 'asc' then
  local start = 0
  if after then
    local pos = redis.call('LPOS', key, after)
    if pos then start = pos + 1 end
  end
  return {length, redis.call('LRANGE', key, start, start + limit - 1)}
end
local stop = length - 1
if after then
  local pos = redis.call('LPOS', key, after, 'RANK', -1)
  if not pos then return {length, {}} end
  stop = pos - 1
end
if stop < 0 then return {length, {}} end
local got = redis.call('LRANGE', key, math.max(0, stop - limit + 1), stop)
local out = {}
for i = #got, 1, -1 do out[#out + 1] = got[i] end
return {length, out}
