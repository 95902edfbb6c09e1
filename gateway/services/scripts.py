"""Lua scripts: each runs atomically inside Redis, so a claim and its action are one step.

Registry entries whose score lies in [0, now] are ones RQ's own cleanup would delete; every
script treats them as absent and never writes them. Scores below 0 (failure_ttl=-1) never expire.
"""

from __future__ import annotations

# Shared helpers, prepended to every script.
_PRELUDE = r"""
-- Damaged data (services/damaged.py): a key of another Redis type reads as absent.
local function of_type(key, wanted)
  local found = redis.call('TYPE', key)
  found = found.ok or found
  return found == wanted or found == 'none'
end

-- The reply of a redis.pcall, false when it failed (a key of another type: absent).
local function absent_if_error(reply)
  if type(reply) == 'table' and reply.err then return false end
  return reply
end

-- Whether s is well-formed UTF-8: the gateway never writes a name it could not decode.
local function is_utf8(s)
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
"""

# KEYS[1] registry; ARGV now, offset, limit (-1: all). Returns {live_total, {id, score, ...}}.
LIVE_SLICE = (
    _PRELUDE
    + r"""
local key, now = KEYS[1], tonumber(ARGV[1])
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local total = card - expired
if limit < 0 then limit = total end
local start = offset
if offset >= neg then start = offset + expired end
return {total, live_from(key, start, limit, neg, expired, card)}
"""
)

# KEYS[1] registry; ARGV now. Returns {live_total, {id, score}} of the last live entry, read in
# one step so a registry that shrinks meanwhile cannot leave the two out of step.
LIVE_LAST = (
    _PRELUDE
    + r"""
local key, now = KEYS[1], tonumber(ARGV[1])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local rank = card - 1
if rank < neg + expired then rank = neg - 1 end
if rank < 0 then return {card - expired, {}} end
return {card - expired, redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')}
"""
)

# KEYS[1] registry; ARGV now, limit, [cursor score, cursor id]. Entries strictly after the cursor.
LIVE_AFTER = (
    _PRELUDE
    + r"""
local key, now, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local start = 0
if ARGV[3] then start = rank_after(key, ARGV[3], ARGV[4]) end
return {card - expired, live_from(key, start, limit, neg, expired, card)}
"""
)

# Requeue, as RQ's FailedJobRegistry.requeue leaves a job, but claim and enqueue are one step.
# KEYS[1] failed registry. ARGV: now, now_iso, job prefix, queue prefix, queues set, fallback
# origin, RQ's empty exc_info value, the dependencies key's prefix and suffix, then ids.
# Per id: 1 requeued, 0 not (or no longer) in the registry, -1 orphan (hash gone or not a hash;
# left in place for delete), 2 rate-limited (left for RQ's own requeue), 3 unreadable (its id or
# origin is not UTF-8: the gateway never writes a name it could not decode, and RQ could not load
# the job), 4 its queue key holds another Redis type (a push there would fail half-way).
# REQUEUE_DRY is the same classification with every write skipped, so a dry run predicts the
# real run on any data: one body, two entry points.
_REQUEUE_BODY = r"""
local reg, now, now_iso = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local job_prefix, queue_prefix, queues_set, fallback = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local empty_exc_info, deps_prefix, deps_suffix = ARGV[7], ARGV[8], ARGV[9]
local codes = {}
local registered, claimed = {}, {}
local reg_readable = of_type(reg, 'zset')
for i = 10, #ARGV do
  local id = ARGV[i]
  local score = false
  if reg_readable and not claimed[id] then score = redis.call('ZSCORE', reg, id) end
  local jk = job_prefix .. id
  local fields = nil
  if score and is_live(to_score(score), now) then
    -- pcall: a job key of the wrong type is damaged data, read as an orphan (as lists show it).
    fields = redis.pcall('HMGET', jk, 'status', 'origin', 'rate_limit_key', 'ttl', 'data')
  end
  if not fields then
    codes[#codes + 1] = 0
  elseif fields.err then
    codes[#codes + 1] = -1
  elseif not fields[1] and not fields[5] and redis.call('EXISTS', jk) == 0 then
    codes[#codes + 1] = -1
  else
    local origin = fields[2]
    if not origin or origin == '' then origin = fallback end
    local qk = queue_prefix .. origin
    if not is_utf8(id) or not is_utf8(origin) then
      codes[#codes + 1] = 3
    elseif not of_type(qk, 'list') then
      codes[#codes + 1] = 4
    elseif fields[3] and fields[3] ~= '' then
      codes[#codes + 1] = 2
    else
      claimed[id] = true
      if not dry then
        redis.call('ZREM', reg, id)
        redis.call('HSET', jk, 'status', 'queued', 'origin', origin, 'enqueued_at', now_iso,
                   'started_at', '', 'ended_at', '', 'exc_info', empty_exc_info)
        -- As RQ's Job.cleanup(ttl=job.ttl): a positive job ttl restarts; otherwise TTLs stay.
        local ttl = tonumber(fields[4] or '')
        if ttl and ttl > 0 then
          redis.call('EXPIRE', jk, ttl)
          redis.call('EXPIRE', jk .. ':dependents', ttl)
          redis.call('EXPIRE', deps_prefix .. id .. deps_suffix, ttl)
        end
        if not registered[qk] then
          redis.call('SADD', queues_set, qk)
          registered[qk] = true
        end
        redis.call('RPUSH', qk, id)
      end
      codes[#codes + 1] = 1
    end
  end
end
return codes
"""
REQUEUE = _PRELUDE + "local dry = false\n" + _REQUEUE_BODY
REQUEUE_DRY = _PRELUDE + "local dry = true\n" + _REQUEUE_BODY

# Delete from the failed registry with everything RQ's Job.delete removes: the job hash, results
# stream, dependents, dependencies and executions keys, and the id in its group.
# KEYS[1] failed registry. ARGV: now, group key prefix, then the (prefix, suffix) pairs of the
# keys to delete, then "--", then ids. Per id: 1 deleted (orphans too), 0 not (or no longer) in
# the registry. DELETE_DRY classifies alike and writes nothing.
_DELETE_BODY = r"""
local reg, now, group_prefix = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local parts, first_id = {}, nil
for i = 3, #ARGV, 2 do
  if ARGV[i] == '--' then first_id = i + 1 break end
  parts[#parts + 1] = {ARGV[i], ARGV[i + 1]}
end
local codes, claimed = {}, {}
local reg_readable = of_type(reg, 'zset')
for i = first_id, #ARGV do
  local id = ARGV[i]
  local score = false
  if reg_readable and not claimed[id] then score = redis.call('ZSCORE', reg, id) end
  if score and is_live(to_score(score), now) then
    claimed[id] = true
    if not dry then
      redis.call('ZREM', reg, id)
      -- pcall: a job key of the wrong type (damaged data) must not fail the whole chunk.
      local group = redis.pcall('HGET', parts[1][1] .. id .. parts[1][2], 'group_id')
      if type(group) == 'string' and group ~= '' then
        -- pcall: a group key of the wrong type leaves nothing to remove the id from.
        redis.pcall('SREM', group_prefix .. group, id)
      end
      local doomed = {}
      for j, part in ipairs(parts) do doomed[j] = part[1] .. id .. part[2] end
      redis.call('DEL', unpack(doomed))
    end
    codes[#codes + 1] = 1
  else
    codes[#codes + 1] = 0
  end
end
return codes
"""
DELETE = _PRELUDE + "local dry = false\n" + _DELETE_BODY
DELETE_DRY = _PRELUDE + "local dry = true\n" + _DELETE_BODY

# For listings newest first: rank_before (rank_after with the cursor itself excluded) and
# live_down, the descending twin of live_from.
_PRELUDE_DESC = r"""
-- Number of entries whose (score, id) comes before the cursor (score, id): the rank to end at.
local function rank_before(key, score, id)
  return rank_after(key, score, id, true)
end

-- Up to `limit` live entries from rank `start` down to rank 0, as flat {id, score, ...}.
local function live_down(key, start, limit, neg, expired)
  local out = {}
  if start >= neg and start < neg + expired then start = neg - 1 end
  while limit > 0 and start >= 0 do
    local low = 0
    if start >= neg + expired then low = neg + expired end
    low = math.max(low, start - limit + 1)
    local got = redis.call('ZRANGE', key, low, start, 'WITHSCORES')
    for i = #got - 1, 1, -2 do
      out[#out + 1] = got[i]
      out[#out + 1] = got[i + 1]
    end
    limit = limit - (start - low + 1)
    start = low - 1
    if start >= neg and start < neg + expired then start = neg - 1 end
  end
  return out
end
"""

# KEYS[1] registry; ARGV now, limit, [cursor score, cursor id]. Entries strictly before the
# cursor, newest (highest score) first.
LIVE_BEFORE = (
    _PRELUDE
    + _PRELUDE_DESC
    + r"""
local key, now, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local stop = card
if ARGV[3] then stop = rank_before(key, ARGV[3], ARGV[4]) end
return {card - expired, live_down(key, stop - 1, limit, neg, expired)}
"""
)

# KEYS[1] a queue (list, head = next to run); ARGV limit, direction ('asc' from the head,
# 'desc' from the tail), [cursor job id]. A cursor is the last job id seen, found again by
# value (LPOS), so jobs taken from the head or pushed at either end never shift a page. When
# that job has left the queue, 'asc' restarts at the head (in a FIFO queue a job leaves with
# every job ahead of it) and 'desc' ends. Returns {length, {id, ...}}.
QUEUE_PAGE = (
    _PRELUDE
    + r"""
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
"""
)

# Read-only: what a failure group needs of each job, in one call per chunk instead of two
# commands per job (the client-side cost of 20k pipelined commands dominated the grouping).
# ARGV: job key prefix, results key prefix and suffix, then ids. Returns 4 values per id: the
# hash's data, ended_at and (RQ < 2) exc_info, and the newest results entry's exc_string; nil
# when absent. A key of the wrong type reads as absent.
CAUSE_FIELDS = (
    _PRELUDE
    + r"""
local job_prefix, results_prefix, results_suffix = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local fields = absent_if_error(redis.pcall('HMGET', job_prefix .. id, 'data', 'ended_at', 'exc_info'))
  local n = #out
  if fields then
    out[n + 1], out[n + 2], out[n + 3] = fields[1], fields[2], fields[3]
  else
    out[n + 1], out[n + 2], out[n + 3] = false, false, false
  end
  local exc_string = false
  local results = results_prefix .. id .. results_suffix
  local latest = absent_if_error(redis.pcall('XREVRANGE', results, '+', '-', 'COUNT', 1))
  if latest and latest[1] then
    local kv = latest[1][2]
    for j = 1, #kv, 2 do
      if kv[j] == 'exc_string' then exc_string = kv[j + 1] end
    end
  end
  out[n + 4] = exc_string
end
return out
"""
)
