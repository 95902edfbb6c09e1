-- Run by HistoryWriter.commit (gateway/services/history/writer.py) at the end of each tick.
-- KEYS[1] the lease, KEYS[2] the watermark. ARGV: token, the watermark the tick started from
-- ('' when none), the new watermark, the TTL of the watermark and seen sets in seconds, the
-- number of minute hashes; then per minute hash: key, EXPIREAT, failed, finished, queued,
-- latency, run_max ('' where the tick has none), the number n of sketch buckets and n (field,
-- count) pairs; then per registry: its seen set, the registry, the number m of ids and m ids.
-- Returns 1 when written; 0 when the lease is no longer this token's, -1 when the watermark moved
-- (another commit came first): then nothing is written, so no job is counted twice.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return -1 end
local ttl = ARGV[4]
local BATCH = 1000 -- arguments per ZADD/ZREM, well under Lua's unpack limit

local function raise(key, field, value)
  if value == '' then return end
  local old = redis.call('HGET', key, field)
  if not old or tonumber(value) > tonumber(old) then
    redis.call('HSET', key, field, value)
  end
end

local i = 6
for _ = 1, tonumber(ARGV[5]) do
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

while i <= #ARGV do
  local seen, registry, m = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  for first = i + 3, i + 2 + m, BATCH do
    local members = {}
    for k = first, math.min(first + BATCH - 1, i + 2 + m) do
      members[#members + 1] = 0
      members[#members + 1] = ARGV[k]
    end
    redis.call('ZADD', seen, unpack(members))
  end
  -- Ids that left the registry (retried, deleted, expired) are forgotten: if one comes back
  -- it is new. A registry of another type (damaged data) is left alone.
  local kind = redis.call('TYPE', registry)['ok']
  if kind == 'zset' or kind == 'none' then
    local gone = redis.call('ZDIFF', 2, seen, registry)
    for first = 1, #gone, BATCH do
      redis.call('ZREM', seen, unpack(gone, first, math.min(first + BATCH - 1, #gone)))
    end
  end
  redis.call('EXPIRE', seen, ttl)
  i = i + 3 + m
end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
return 1
