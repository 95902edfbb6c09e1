-- Run by OperationStore.finish and OperationStore.cancel (gateway/services/operations/store.py).
-- End a running operation: set its final status once, take it off the running set (but see
-- below) and let its state expire. A runner ends it only while it holds the lease; a cancel at any time.
-- KEYS[1] operation hash, KEYS[2] running set, KEYS[3] its lease, KEYS[4] its errors list.
-- ARGV: id, status, finished_at, seconds kept, lease token ('' for a cancel), then for a runner
-- whose walk ended the field and value the walk's last chunk recorded ('' and '' for none).
-- Reply: 1 ended now, 0 it was not running (or the lease is another runner's), -1 the walk has
-- not ended here: Redis went back in time under the runner (a failover between its last chunks
-- and this call), which walks on from the recorded position.
own_key(KEYS[2], 'set')
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then  -- damaged: not an operation to end, nor to resume
  redis.call('SREM', KEYS[2], ARGV[1])
  return 0
end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then
  -- Ended with this status at this very time: this call ran already and is sent again (after a
  -- dropped connection), and its caller, who never read its reply, ended it.
  if status == ARGV[2] and redis.call('HGET', KEYS[1], 'finished_at') == ARGV[3] then return 1 end
  return 0
end
if ARGV[5] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[5] then return 0 end
if ARGV[6] ~= '' and (redis.call('HGET', KEYS[1], ARGV[6]) or '') ~= ARGV[7] then return -1 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[3])
-- A cancel while a runner holds the lease leaves the id in the running set: that runner stops at
-- its next chunk, writes the finish record and takes it off; should it die first, the resumer
-- that finds its lease lapsed writes the record instead (OperationRunner.resume_orphans).
if ARGV[5] ~= '' or redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
if ARGV[5] ~= '' then redis.call('DEL', KEYS[3]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[4]))
return 1
