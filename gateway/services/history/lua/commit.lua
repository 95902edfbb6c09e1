-- Run by HistoryWriter.commit (gateway/services/history/writer.py), several times per tick, each
-- with a bounded batch (batch.py). KEYS[1] the lease, KEYS[2] the watermark. ARGV: token, the
-- watermark the previous commit of this tick left ('' when none), the new watermark, the TTL of
-- the watermark and seen sets in seconds, the lease in milliseconds, the number of minute
-- hashes; then per minute hash: key, EXPIREAT, failed, finished, queued, latency, run_max (''
-- where the batch has none), the number n of sketch buckets and n (field, count) pairs; then
-- groups of ids: 'add' or 'forget', the seen set, the registry, the number m of ids and m ids.
-- 'add' puts those of the ids that are (still) in the registry in the seen set (m = 0 only renews
-- its TTL); 'forget' drops those of the ids that are (still) absent from the registry, so a job
-- retried and failed again is new again.
-- Returns 1 when written (and renews the lease); 0 when the lease is no longer this token's, -1
-- when the watermark moved (another commit came between): then nothing is written, so the
-- counts and the seen ids of one batch land together or not at all, and no job counts twice.
-- A minute hash of another Redis type (damaged data) is replaced by the one written here.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
-- A watermark of another type (damaged data) reads as none, and the SET below replaces it.
local mark = redis.call('TYPE', KEYS[2])['ok'] == 'string' and redis.call('GET', KEYS[2]) or ''
if mark ~= ARGV[2] then return -1 end
local ttl = ARGV[4]
local BATCH = 1000 -- arguments per ZADD/ZREM/ZMSCORE, well under Lua's unpack limit

local function raise(key, field, value)
  if value == '' then return end
  local old = redis.call('HGET', key, field)
  if not old or tonumber(value) > tonumber(old) then
    redis.call('HSET', key, field, value)
  end
end

local i = 7
for _ = 1, tonumber(ARGV[6]) do
  local key = ARGV[i]
  -- The gateway's own key, damaged (another type): replaced, or HINCRBY's WRONGTYPE would fail
  -- every commit, and no queue's history would be written again.
  local key_type = redis.call('TYPE', key)['ok']
  if key_type ~= 'hash' and key_type ~= 'none' then redis.call('DEL', key) end
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
  local kind, seen, registry, m = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local last = i + 3 + m
  if kind == 'add' then
    -- Only ids still in the registry become seen: one the gateway retried or deleted since the
    -- walk found it (its script forgot it from the seen set, where it was not yet) is counted by
    -- this batch but stays unseen, so failing again it counts again. (A registry of another type,
    -- damaged data, is walked by nobody: its ids are added unchecked.)
    local registry_type = redis.call('TYPE', registry)['ok']
    local checked = registry_type == 'zset' or registry_type == 'none'
    for first = i + 4, last, BATCH do
      local ids = {}
      for k = first, math.min(first + BATCH - 1, last) do ids[#ids + 1] = ARGV[k] end
      local scores = checked and redis.call('ZMSCORE', registry, unpack(ids)) or {}
      local members = {}
      for k = 1, #ids do
        if scores[k] or not checked then
          members[#members + 1] = 0
          members[#members + 1] = ids[k]
        end
      end
      if #members > 0 then redis.call('ZADD', seen, unpack(members)) end
    end
  else
    -- A registry of another type (damaged data) is left alone.
    local type_of = redis.call('TYPE', registry)['ok']
    if type_of == 'zset' or type_of == 'none' then
      for first = i + 4, last, BATCH do
        local ids = {}
        for k = first, math.min(first + BATCH - 1, last) do ids[#ids + 1] = ARGV[k] end
        local scores = redis.call('ZMSCORE', registry, unpack(ids))
        local gone = {}
        for k = 1, #ids do
          if not scores[k] then gone[#gone + 1] = ids[k] end
        end
        if #gone > 0 then redis.call('ZREM', seen, unpack(gone)) end
      end
    end
  end
  redis.call('EXPIRE', seen, ttl)
  i = last + 1
end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
