-- Run by Lease.hold (gateway/services/history/lease.py). KEYS[1] the lease; ARGV token, length
-- in milliseconds. Takes a free lease (SET NX PX) or renews the one this token holds. Returns 1
-- when the caller holds the lease afterwards, 0 when another process does.
local key, token, ms = KEYS[1], ARGV[1], ARGV[2]
-- The gateway's own key, damaged (another type): replaced, or no process would write again.
local kind = redis.call('TYPE', key)['ok']
if kind ~= 'string' and kind ~= 'none' then redis.call('DEL', key) end
if redis.call('SET', key, token, 'NX', 'PX', ms) then
  return 1
end
if redis.call('GET', key) == token then
  redis.call('PEXPIRE', key, ms)
  return 1
end
return 0
