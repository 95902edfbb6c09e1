-- Run by OperationChunks.run (gateway/services/operations/chunks.py), after prelude.lua,
-- `local dry = false` and requeue.lua or delete.lua wrapped as `local function act(KEYS, ARGV)`:
-- the same per-job claim and action as retry-all and clear, with the operation's progress
-- written in the same atomic step, so a crash never leaves a job acted on but not counted, or
-- counted but not acted on; a resumed operation starts exactly after the last chunk recorded.
-- KEYS[1] failed registry, KEYS[2] operation hash, KEYS[3] its lease, KEYS[4] its errors list.
-- ARGV[1] lease token, ARGV[2] lease ms, ARGV[3] position after this chunk, ARGV[4] entries
-- examined, ARGV[5] the codes that are errors as ",-1,3,", ARGV[6] the index of the first id in
-- act's ARGV, ARGV[7] errors kept, then act's ARGV.
-- Reply: {'lost'} the lease is another runner's; {'stopped'} the operation is no longer running
-- (canceled); else the microseconds this call kept Redis busy, then act's codes. Neither stop
-- writes anything. The time is Redis's own clock: the runner sizes the next chunk from it, and
-- a gateway process slowed by a busy machine does not shrink chunks that cost Redis nothing more.
local began = redis.call('TIME')
local op, lease, errors = KEYS[2], KEYS[3], KEYS[4]
if redis.call('GET', lease) ~= ARGV[1] then return {'lost'} end
if redis.call('HGET', op, 'status') ~= 'running' then return {'stopped'} end
local inner = {}
for i = 8, #ARGV do inner[#inner + 1] = ARGV[i] end
local codes = act({KEYS[1]}, inner)
local first_id, kept, error_codes = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[5]
local acted, failed, pending = 0, 0, 0
local room = kept - redis.call('LLEN', errors)
for i, code in ipairs(codes) do
  if code == 1 then
    acted = acted + 1
  elseif code == 2 then
    pending = pending + 1  -- rate-limited: the runner hands it to RQ's own requeue next
  elseif string.find(error_codes, ',' .. code .. ',', 1, true) then
    failed = failed + 1
    if room > 0 then
      redis.call('RPUSH', errors, code .. ' ' .. inner[first_id + i - 1])
      room = room - 1
    end
  end
end
redis.call('HINCRBY', op, 'done', tonumber(ARGV[4]))
redis.call('HINCRBY', op, 'matched', #codes)
redis.call('HINCRBY', op, 'acted', acted)
redis.call('HINCRBY', op, 'error_count', failed)
redis.call('HSET', op, 'position', ARGV[3])
redis.call('PEXPIRE', lease, tonumber(ARGV[2]))
local ended = redis.call('TIME')
local took = (tonumber(ended[1]) - tonumber(began[1])) * 1000000 + tonumber(ended[2]) - tonumber(began[2])
table.insert(codes, 1, took)
return codes
