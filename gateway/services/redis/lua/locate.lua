-- Run by fetch_located_job (gateway/services/reads/locate.py), after prelude.lua, inside the
-- job's read pipeline (EVAL). Read-only.
-- ARGV: id, job prefix, queue prefix, fallback origin, now, executions (prefix, suffix), started
-- (prefix, suffix), then (state, prefix, suffix, expires 1|0) per registry.
-- Returns {origin, state or false}.
local id, job_prefix, queue_prefix, fallback, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
-- pcall throughout: a key of the wrong type is damaged data and reads as absent.
local origin = absent_if_error(redis.pcall('HGET', job_prefix .. id, 'origin'))
if not origin or origin == '' then origin = fallback end
if absent_if_error(redis.pcall('LPOS', queue_prefix .. origin, id)) then return {origin, 'queued'} end
local started = ARGV[8] .. origin .. ARGV[9]
local function live_in(key, member, expires)
  local score = absent_if_error(redis.pcall('ZSCORE', key, member))
  return score and (expires == '0' or is_live(to_score(score), now))
end
if live_in(started, id, '1') then return {origin, 'started'} end
local executions = absent_if_error(redis.pcall('ZRANGE', ARGV[6] .. id .. ARGV[7], 0, -1)) or {}
for _, execution in ipairs(executions) do
  if live_in(started, id .. ':' .. execution, '1') then return {origin, 'started'} end
end
for i = 10, #ARGV, 4 do
  if live_in(ARGV[i + 1] .. origin .. ARGV[i + 2], id, ARGV[i + 3]) then return {origin, ARGV[i]} end
end
return {origin, false}
