-- Run by OperationStore.create (gateway/services/operations/store.py). Start an operation, or
-- with an idempotency key already used, answer the operation it started: one atomic step, so two
-- requests with one key never both start one.
-- KEYS[1] operation hash, KEYS[2] index (zset by start), KEYS[3] running set, KEYS[4] its lease,
-- KEYS[5] (optional) the idempotency key. ARGV: id, start ms, lease token, lease ms, idempotency
-- seconds, operations kept in the index, then the hash's field/value pairs.
-- Reply: the id of the operation (the earlier one on a replay) and 1 when it is new.
-- An idempotency key of another type (damaged data) reads as unused, and is set anew below.
-- The key naming this very id: this call ran already and is sent again (redis-py re-sends a
-- command once after a dropped connection), so its caller never read that it started it.
if KEYS[5] and redis.call('TYPE', KEYS[5]).ok == 'string' then
  local existing = redis.call('GET', KEYS[5])
  return {existing, existing == ARGV[1] and 1 or 0}
end
own_key(KEYS[2], 'zset')
own_key(KEYS[3], 'set')
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
-- Newest first is the order of starts as Redis saw them: an operation scored no later than the
-- newest listed (started in the same millisecond, or by a replica whose clock is behind) goes
-- just after it, so ties never list in the order of the random ids.
local score = tonumber(ARGV[2])
local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 1 end
redis.call('ZADD', KEYS[2], score, ARGV[1])
-- Only the latest are listed; older ones expire on their own once finished.
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[6]) - 1)
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
if KEYS[5] then redis.call('SET', KEYS[5], ARGV[1], 'EX', ARGV[5]) end
return {ARGV[1], 1}
