-- Run by HistoryWriter (gateway/services/history/writer.py) at the end of each tick.
-- KEYS[1] the lease, KEYS[2] the watermark. ARGV token, the watermark the tick started from
-- ('' when none), the new watermark, the watermark's TTL in seconds, then per minute hash:
-- key, EXPIREAT, failed, finished, queued, latency, run_max ('' where the tick has none), the
-- number n of sketch buckets, and n (field, count) pairs.
-- Returns 1 when written; 0 when the lease is no longer this token's, -1 when the watermark moved
-- (another writer counted meanwhile): then nothing is written, so no job is counted twice.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return -1 end

local function raise(key, field, value)
  if value == '' then return end
  local old = redis.call('HGET', key, field)
  if not old or tonumber(value) > tonumber(old) then
    redis.call('HSET', key, field, value)
  end
end

local i = 5
while i <= #ARGV do
  local key = ARGV[i]
  if ARGV[i + 2] ~= '' then redis.call('HINCRBY', key, 'failed', ARGV[i + 2]) end
  if ARGV[i + 3] ~= '' then redis.call('HINCRBY', key, 'finished', ARGV[i + 3]) end
  raise(key, 'queued', ARGV[i + 4])
  raise(key, 'latency', ARGV[i + 5])
  raise(key, 'run_max', ARGV[i + 6])
  local n = tonumber(ARGV[i + 7])
  for j = 0, n - 1 do
    redis.call('HINCRBY', key, ARGV[i + 8 + 2 * j], ARGV[i + 9 + 2 * j])
  end
  redis.call('EXPIREAT', key, ARGV[i + 1])
  i = i + 8 + 2 * n
end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return 1
