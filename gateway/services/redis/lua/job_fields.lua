-- Run by fetch_jobs (gateway/services/redis/fetch.py) when it reads some fields of many jobs
-- (search), after prelude.lua. Read-only: one call per chunk instead of one command per job (the
-- client-side cost of pipelining 500 commands dominated a search scan, as it did the grouping in
-- cause_fields.lua). ARGV: job key prefix, results key prefix and suffix ('' and '': no results
-- read), the number of fields F, the F field names, then ids.
-- Returns F values per id, false where absent; a missing hash or a key of the wrong type gives
-- F falses. With a results prefix, 1 more per id: the newest results entry's `exc_string`
-- (false where absent), the traceback an `exc:` or free-text search matches on.
local prefix, results_prefix, results_suffix, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local names = {}
for i = 1, count do names[i] = ARGV[4 + i] end
local out = {}
for i = 5 + count, #ARGV do
  local values = absent_if_error(redis.pcall('HMGET', prefix .. ARGV[i], unpack(names)))
  local n = #out
  for j = 1, count do out[n + j] = values and values[j] or false end
  if results_prefix ~= '' then
    out[#out + 1] = newest_exc_string(results_prefix .. ARGV[i] .. results_suffix)
  end
end
return out
