-- Run by OperationStore.claim and OperationStore.renew (gateway/services/operations/store.py).
-- Claim a running operation's free lease, or extend one this runner holds.
-- KEYS[1] operation hash, KEYS[2] its lease. ARGV: token, lease ms.
-- Reply: 1 held by this token now, 0 not (held by another, or the operation is not running).
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
