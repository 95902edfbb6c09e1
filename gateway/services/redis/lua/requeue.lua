-- Run by FailedJobActions.requeue (gateway/services/writes/failed_actions.py) and
-- Lifecycle.requeue (gateway/services/writes/lifecycle.py), after prelude.lua and a first line
-- `local dry = false` (REQUEUE) or `local dry = true` (REQUEUE_DRY), and `local listed = false`
-- (prelude.lua's claimable).
-- Requeue, as RQ's FailedJobRegistry.requeue leaves a job, but claim and enqueue are one step.
-- KEYS[1] failed registry, KEYS[2] the history's seen set of it. ARGV: now, now_iso, job prefix,
-- queue prefix, queues set, fallback origin, RQ's empty exc_info value, the dependencies key's
-- prefix and suffix, the only origin to act on ('' for any: a queue-limited caller acts only on
-- jobs whose hash names the registry's queue, so it never pushes into another queue), then ids.
-- Per id: 1 requeued, 0 not (or no longer) in the registry, or, under an only origin, a job of
-- another queue or of none known (orphan, no origin: as if absent, as a queue-limited key finds
-- it anywhere), -1 orphan (hash gone or not a hash;
-- left in place for delete), 2 rate-limited (left for RQ's own requeue), 3 unreadable (its id or
-- origin is not UTF-8: the gateway never writes a name it could not decode, and RQ could not load
-- the job), 4 its queue key holds another Redis type (a push there would fail half-way).
-- The dry run is the same classification with every write skipped, so a dry run predicts the
-- real run on any data: one body, two entry points.
local reg, now, now_iso = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local job_prefix, queue_prefix, queues_set, fallback = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local empty_exc_info, deps_prefix, deps_suffix, only_origin = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local codes = {}
local claimed = {}
-- The ZREMs and RPUSHes are sent in batches after the loop (one call per BATCH ids, not one per
-- id): the script is atomic, so no one sees the order, and a queue gets its ids in input order.
local removed, pushes, order = {}, {}, {}
-- Whether each queue key may take a push, read once per queue: the script is atomic, and its own
-- pushes keep a list a list, so the answer cannot change within one call.
local pushable = {}
local function may_push(qk)
  if pushable[qk] == nil then pushable[qk] = of_type(qk, 'list') end
  return pushable[qk]
end
local reg_readable = of_type(reg, 'zset')
for i = 11, #ARGV do
  local id = ARGV[i]
  local jk = job_prefix .. id
  local fields = nil
  if claimable(reg, reg_readable, id, now, claimed, listed) then
    -- pcall: a job key of the wrong type is damaged data, read as an orphan (as lists show it).
    fields = redis.pcall('HMGET', jk, 'status', 'origin', 'rate_limit_key', 'ttl')
  end
  if not fields then
    codes[#codes + 1] = 0
  elseif only_origin ~= '' and (fields.err or fields[2] ~= only_origin) then
    codes[#codes + 1] = 0  -- another queue's job, or one of no known queue (job_access.py)
  elseif fields.err then
    codes[#codes + 1] = -1
  elseif not fields[1] and redis.call('EXISTS', jk) == 0 then
    -- (Not 'data' in the HMGET: copying every payload into Lua would cost more than this
    -- EXISTS, which only a hash without a status needs.)
    codes[#codes + 1] = -1
  else
    local origin = fields[2]
    if not origin or origin == '' then origin = fallback end
    local qk = queue_prefix .. origin
    if not is_utf8(id) or not is_utf8(origin) then
      codes[#codes + 1] = 3
    elseif not may_push(qk) then
      codes[#codes + 1] = 4
    elseif fields[3] and fields[3] ~= '' then
      codes[#codes + 1] = 2
    else
      claimed[id] = true
      if not dry then
        removed[#removed + 1] = id
        redis.call('HSET', jk, 'status', 'queued', 'origin', origin, 'enqueued_at', now_iso,
                   'started_at', '', 'ended_at', '', 'exc_info', empty_exc_info)
        -- As RQ's Job.cleanup(ttl=job.ttl): a positive job ttl restarts; otherwise TTLs stay.
        local ttl = tonumber(fields[4] or '')
        if ttl and ttl > 0 then
          redis.call('EXPIRE', jk, ttl)
          redis.call('EXPIRE', jk .. ':dependents', ttl)
          redis.call('EXPIRE', deps_prefix .. id .. deps_suffix, ttl)
        end
        if not pushes[qk] then
          pushes[qk] = {}
          order[#order + 1] = qk
        end
        table.insert(pushes[qk], id)
      end
      codes[#codes + 1] = 1
    end
  end
end
take_out(reg, KEYS[2], removed)
for _, qk in ipairs(order) do
  redis.call('SADD', queues_set, qk)
  local ids = pushes[qk]
  for first = 1, #ids, BATCH do
    redis.call('RPUSH', qk, unpack(ids, first, math.min(first + BATCH - 1, #ids)))
  end
end
return codes
