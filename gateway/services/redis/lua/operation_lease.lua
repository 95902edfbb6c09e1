-- Run by OperationStore.claim and OperationStore.renew (gateway/services/operations/store.py).
-- Claim a running operation's free lease, or extend one this runner holds.
-- KEYS[1] operation hash, KEYS[2] its lease, KEYS[3] the running set. ARGV: token, lease ms, id.
-- Reply: 1 held by this token now, 0 not (held by another, or no operation), -1 the operation
-- has ended (a cancel leaves it in the running set while a runner holds the lease: operation_end.lua).
-- An id of the running set whose hash is gone, of another type or not running is taken off, so
-- the resumers stop polling for it.
own_key(KEYS[3], 'set')
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  redis.call('SREM', KEYS[3], ARGV[3])
  return 0
end
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  redis.call('SREM', KEYS[3], ARGV[3])
  return -1
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
