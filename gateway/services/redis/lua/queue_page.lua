-- Run by read_queue_page (gateway/services/reads/queue_list.py), after prelude.lua. Read-only.
-- KEYS[1] a queue (list, head = next to run). ARGV: page size, direction ('asc' from the head,
-- 'desc' from the tail), reach (ids read beyond each end of the page, for the cursors' windows),
-- then for a cursor: hint (the last returned id's index when it was read, or -1), seen (how many
-- of the ids were returned), the window's ids in scan order (ids[seen] the last one returned).
-- Returns {length, lo, start, LRANGE lo .. hi}: the page and `reach` ids beyond each of its ends,
-- where start is the index of the first id to return (asc: length, desc: -1 when none is left).
-- queue_list.py's docstring says how a cursor finds its place again.
local key, size, direction, reach = KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
if not of_type(key, 'list') then return {0, 0, 0, {}} end
local length = redis.call('LLEN', key)
local asc = direction == 'asc'
local step = asc and 1 or -1

local function position(id)
  if asc then return redis.call('LPOS', key, id) end
  return redis.call('LPOS', key, id, 'RANK', -1)
end

local function holds(index, id)
  return index >= 0 and index < length and redis.call('LINDEX', key, index) == id
end

local function resume()
  local hint, seen, ids = tonumber(ARGV[4]), tonumber(ARGV[5]), {}
  for i = 6, #ARGV do ids[#ids + 1] = ARGV[i] end
  -- Right after the latest returned id still queued: the hint first, then by value (LPOS).
  local after_seen
  if holds(hint, ids[seen]) then
    after_seen = hint + step
  else
    for i = seen, 1, -1 do
      local found = position(ids[i])
      if found then after_seen = found + step break end
    end
  end
  local follower = ids[seen + 1]
  if after_seen and (not follower or holds(after_seen, follower)) then return after_seen end
  -- At the first follower still queued: the place of the returned ids that left.
  local at_follower
  for i = seen + 1, #ids do
    local found = position(ids[i])
    if found then at_follower = found break end
  end
  if after_seen and at_follower then
    -- They disagree only when one of them moved (requeued to an end): take the one earlier in
    -- scan order, which may meet a moved job twice but skips no job that stayed.
    if asc then return math.min(after_seen, at_follower) end
    return math.max(after_seen, at_follower)
  end
  if after_seen or at_follower then return after_seen or at_follower end
  -- Every id of the window left. Most likely workers took them from the head, and every job
  -- ahead of them with them: asc goes on at the head, desc has nothing older left.
  if asc then return 0 end
  return -1
end

local start
if #ARGV >= 6 then
  start = resume()
elseif asc then
  start = 0
else
  start = length - 1
end
local lo, hi
if asc then lo, hi = start - reach, start + size - 1 + reach else lo, hi = start - size + 1 - reach, start + reach end
if lo < 0 then lo = 0 end
if hi < lo then return {length, lo, start, {}} end
return {length, lo, start, redis.call('LRANGE', key, lo, hi)}
