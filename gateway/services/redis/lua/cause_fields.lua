-- Run by failure groups (gateway/services/writes/groups.py), after prelude.lua. Read-only:
-- what a failure group needs of each job, in one call per chunk instead of two commands per job
-- (the client-side cost of 20k pipelined commands dominated the grouping).
-- ARGV: job key prefix, results key prefix and suffix, then ids. Returns 5 values per id: the
-- hash's data, failure time (failed_at: ended_at, else a stopped job's last heartbeat), (RQ < 2)
-- exc_info and origin, and the newest results entry's exc_string; nil when absent. A key of the
-- wrong type reads as absent.
local job_prefix, results_prefix, results_suffix = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local fields = absent_if_error(
    redis.pcall('HMGET', job_prefix .. id, 'data', 'ended_at', 'exc_info', 'origin', 'last_heartbeat'))
  local n = #out
  if fields then
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = fields[1], failed_at(fields[2], fields[5]),
      fields[3], fields[4]
  else
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = false, false, false, false
  end
  out[n + 5] = newest_exc_string(results_prefix .. id .. results_suffix)
end
return out
