-- Run by EnqueueNow.run (gateway/services/writes/enqueue_now.py), after prelude.lua.
-- Move a scheduled (or, forced, a deferred) job to its queue now, exactly once, even while RQ's
-- scheduler moves it. RQ's scheduler is not atomic: it reads the due ids, then pushes each and
-- removes it from the registry in a later MULTI, which nothing can abort. So:
-- * When a scheduler holds the queue's lock, only it may move the job: the entry's score becomes
--   0 (due), and the scheduler enqueues it on its next tick (about a second), once.
-- * Otherwise no scheduler can be moving it (it moves only the queues it holds the lock of), and
--   the claim (ZREM) and the push are this one step.
-- KEYS: job hash, queue list, scheduled registry, deferred registry, scheduler lock, queues set.
-- ARGV: id, the origin the keys were built for, the fallback origin, now_iso, force (1 or 0),
-- the dependencies key's prefix and suffix, the dependents key's prefix and suffix.
-- Returns {code, status}: 1 enqueued, 2 handed to the scheduler, 0 neither scheduled nor
-- deferred (status says what it is), 4 deferred and not forced, 5 rate-limited (left for RQ's
-- own enqueue, which takes its slot), 6 the queue key is not a list, -1 no job, 3 origin changed.
local jk, qk, scheduled, deferred, lock, queues_set = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, origin, fallback, now_iso, force = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local deps_prefix, deps_suffix, dependents_prefix, dependents_suffix = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
if redis.call('EXISTS', jk) == 0 then return {-1, ''} end
local f = redis.call('HMGET', jk, 'status', 'origin', 'rate_limit_key', 'ttl', 'enqueue_at_front',
                     'enqueue_at_front_on_retry', 'ended_at')
local status, stored = f[1] or '', f[2]
if not stored or stored == '' then stored = fallback end
if stored ~= origin then return {3, status} end
local in_scheduled = of_type(scheduled, 'zset') and redis.call('ZSCORE', scheduled, id)
local in_deferred = of_type(deferred, 'zset') and redis.call('ZSCORE', deferred, id)
if not in_scheduled and not in_deferred then return {0, status} end
if in_deferred and not in_scheduled and not force then return {4, status} end
if not of_type(qk, 'list') then return {6, status} end
if in_scheduled and redis.call('EXISTS', lock) == 1 then
  redis.call('ZADD', scheduled, 'XX', 0, id)
  return {2, status}
end
if f[3] and f[3] ~= '' then return {5, status} end
if in_scheduled then redis.call('ZREM', scheduled, id) end
if in_deferred then
  redis.call('ZREM', deferred, id)
  -- Forced past its dependencies: out of each one's dependents, or RQ would enqueue it a second
  -- time when that dependency finishes.
  local deps_key = deps_prefix .. id .. deps_suffix
  if of_type(deps_key, 'set') then
    for _, dep in ipairs(redis.call('SMEMBERS', deps_key)) do
      local dependents = dependents_prefix .. dep .. dependents_suffix
      if of_type(dependents, 'set') then redis.call('SREM', dependents, id) end
    end
  end
end
redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', now_iso)
-- As RQ's Job.cleanup(ttl=job.ttl) when it enqueues: a positive job ttl restarts.
local ttl = tonumber(f[4] or '')
if ttl and ttl > 0 then redis.call('EXPIRE', jk, ttl) end
redis.call('SADD', queues_set, qk)
-- RQ's Job.should_enqueue_at_front, as its scheduler asks it.
local retried_first = f[6] == '1' and f[7] and f[7] ~= ''
if f[5] == '1' or retried_first then redis.call('LPUSH', qk, id) else redis.call('RPUSH', qk, id) end
return {1, status}
