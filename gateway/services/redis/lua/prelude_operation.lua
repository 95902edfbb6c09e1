-- Shared by operation_chunk.lua and operation_walk.lua (gateway/services/redis/scripts.py puts it
-- before them): the lease and status checks before a chunk, and the chunk's progress after it,
-- written in the same atomic step as the chunk's action, so a crash never leaves a job acted on
-- but not counted, or counted but not acted on.

-- Nil while this runner may act; else the reply that stops it: {'lost'} the lease is another
-- runner's, {'stopped'} the operation is no longer running (canceled). Neither writes anything.
local function refusal(op, lease, token)
  if redis.call('GET', lease) ~= token then return {'lost'} end
  if redis.call('HGET', op, 'status') ~= 'running' then return {'stopped'} end
  return nil
end

-- Seconds a list of rate-limited ids outlives its last chunk: as long as a finished operation
-- is kept (store.KEPT_SECONDS); the runner empties it as it goes.
local LIMITED_KEPT = 604800

-- Count a chunk's codes into the operation and keep its first errors ("code id"), move its
-- position, renew the lease. `ids[i]` is the job of `codes[i]`; `error_codes` is ",-1,3,".
-- An entry absent when acted on (code 0: gone meanwhile, or, for a queue-limited caller, a job
-- not the queue's own) is not matched, unless absence is an error (named ids): what the
-- selector took is what was there for the caller to take (operations/dry_run.py counts alike).
-- Rate-limited jobs (code 2), which RQ's own requeue must take, go to the `limited` list in the
-- same step: a runner that dies before handing them over leaves them to the one that resumes.
local function record(op, lease, errors, limited, lease_ms, position, examined, ids, codes, error_codes, kept)
  local acted, failed, absent = 0, 0, 0
  local absent_is_error = string.find(error_codes, ',0,', 1, true)
  local room = kept - redis.call('LLEN', errors)
  for i, code in ipairs(codes) do
    if code == 0 and not absent_is_error then
      absent = absent + 1
    elseif code == 1 then
      acted = acted + 1
    elseif code == 2 then
      redis.call('RPUSH', limited, ids[i])
      redis.call('EXPIRE', limited, LIMITED_KEPT)
    elseif string.find(error_codes, ',' .. code .. ',', 1, true) then
      failed = failed + 1
      if room > 0 then
        redis.call('RPUSH', errors, code .. ' ' .. ids[i])
        room = room - 1
      end
    end
  end
  redis.call('HINCRBY', op, 'done', examined)
  redis.call('HINCRBY', op, 'matched', #codes - absent)
  redis.call('HINCRBY', op, 'acted', acted)
  redis.call('HINCRBY', op, 'error_count', failed)
  redis.call('HSET', op, 'position', position)
  redis.call('PEXPIRE', lease, lease_ms)
end
