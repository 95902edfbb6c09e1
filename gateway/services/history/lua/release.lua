-- Run by Lease.release (gateway/services/history/lease.py). KEYS[1] the lease; ARGV token.
-- Deletes the lease only if this token holds it, so a stopping writer hands over at once.
-- Returns 1 when deleted.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
