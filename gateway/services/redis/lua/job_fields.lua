-- Run by fetch_jobs (gateway/services/redis/fetch.py) when it reads some fields of many jobs
-- (search), after prelude.lua. Read-only: one call per chunk instead of one command per job (the
-- client-side cost of pipelining 500 commands dominated a search scan, as it did the grouping in
-- cause_fields.lua). ARGV: job key prefix, the number of fields F, the F field names, then ids.
-- Returns F values per id, false where absent; a missing hash or a key of the wrong type gives
-- F falses.
local prefix, count = ARGV[1], tonumber(ARGV[2])
local names = {}
for i = 1, count do names[i] = ARGV[2 + i] end
local out = {}
for i = 3 + count, #ARGV do
  local values = absent_if_error(redis.pcall('HMGET', prefix .. ARGV[i], unpack(names)))
  local n = #out
  for j = 1, count do out[n + j] = values and values[j] or false end
end
return out
