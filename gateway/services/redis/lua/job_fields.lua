-- Run by fetch_jobs (gateway/services/redis/fetch.py) when it reads some fields of many jobs
-- (search), after prelude.lua. Read-only: one call per chunk instead of one command per job (the
-- client-side cost of pipelining 500 commands dominated a search scan, as it did the grouping in
-- cause_fields.lua). ARGV: job key prefix, results key prefix and suffix ('' and '': no results
-- read), the number of fields F, the F field names, then ids.
-- Returns F values per id, false where absent; a missing hash or a key of the wrong type gives
-- F falses. With a results prefix, 2 more per id: the newest results entry's `type` and
-- `exc_string` (false where absent), which an `exc:` or free-text search matches on.
local prefix, results_prefix, results_suffix, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local names = {}
for i = 1, count do names[i] = ARGV[4 + i] end
local out = {}
for i = 5 + count, #ARGV do
  local values = absent_if_error(redis.pcall('HMGET', prefix .. ARGV[i], unpack(names)))
  local n = #out
  for j = 1, count do out[n + j] = values and values[j] or false end
  if results_prefix ~= '' then
    local result_type, exc_string = false, false
    local results = results_prefix .. ARGV[i] .. results_suffix
    local latest = absent_if_error(redis.pcall('XREVRANGE', results, '+', '-', 'COUNT', 1))
    if latest and latest[1] then
      local kv = latest[1][2]
      for j = 1, #kv, 2 do
        if kv[j] == 'type' then result_type = kv[j + 1] end
        if kv[j] == 'exc_string' then exc_string = kv[j + 1] end
      end
    end
    out[#out + 1] = result_type
    out[#out + 1] = exc_string
  end
end
return out
