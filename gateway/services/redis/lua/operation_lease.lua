-- Run by OperationStore.claim and OperationStore.renew (gateway/services/operations/store.py).
-- Claim a running operation's free lease, or extend one this runner holds.
-- KEYS[1] operation hash, KEYS[2] its lease, KEYS[3] the running set. ARGV: token, lease ms, id.
-- Reply: 1 held by this token now, 0 not (held by another, or the operation is not running).
-- An id of the running set whose hash is gone, of another type or not running (damaged data:
-- every end takes it off in the same step) is taken off, so the resumers stop polling for it.
own_key(KEYS[3], 'set')
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' or redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  redis.call('SREM', KEYS[3], ARGV[3])
  return 0
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
