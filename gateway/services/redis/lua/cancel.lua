-- Run by Lifecycle.cancel (gateway/services/writes/lifecycle.py), on its own (no prelude).
-- KEYS: job hash, queue list, deferred, scheduled and canceled registries of the origin.
-- ARGV: id, the origin the keys were built for, the fallback origin, now.
-- Returns {code, status}: 1 canceled, 0 not waiting (any more), -1 no job, 2 rate-limited (left
-- for RQ's own cancel, which frees the job's slot), 3 origin changed since it was checked.
local jk, qk, deferred, scheduled, canceled = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, origin, fallback, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', jk) == 0 then return {-1, ''} end
local f = redis.call('HMGET', jk, 'status', 'origin', 'rate_limit_key')
local status, stored = f[1] or '', f[2]
if not stored or stored == '' then stored = fallback end
if stored ~= origin then return {3, status} end
if f[3] and f[3] ~= '' then return {2, status} end
local claimed = 0
if status == 'queued' then
  claimed = redis.call('LREM', qk, 1, id)
elseif status == 'deferred' then
  claimed = redis.call('ZREM', deferred, id)
  redis.call('LREM', qk, 1, id)
elseif status == 'scheduled' then
  claimed = redis.call('ZREM', scheduled, id)
  redis.call('LREM', qk, 1, id)
end
if claimed == 0 then return {0, status} end
redis.call('HSET', jk, 'status', 'canceled')
redis.call('ZADD', canceled, now, id)
return {1, status}
