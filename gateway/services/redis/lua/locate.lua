-- Run by fetch_located_job (gateway/services/reads/locate.py), after prelude.lua, inside the
-- job's read pipeline (EVAL). Read-only.
-- ARGV: id, job prefix, queue prefix, fallback origin, now, executions (prefix, suffix), started
-- (prefix, suffix), then (state, prefix, suffix, expires 1|0) per registry.
-- Returns {origin, state or false, place}: the place is the job's index in the queue list, or
-- {member, score} of its registry entry (search's id: lookup resumes a scan from it).
local id, job_prefix, queue_prefix, fallback, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
-- pcall throughout: a key of the wrong type is damaged data and reads as absent.
local origin = absent_if_error(redis.pcall('HGET', job_prefix .. id, 'origin'))
if not origin or origin == '' then origin = fallback end
local index = absent_if_error(redis.pcall('LPOS', queue_prefix .. origin, id))
if index then return {origin, 'queued', index} end
local started = ARGV[8] .. origin .. ARGV[9]
local function live_in(key, member, expires)
  local score = absent_if_error(redis.pcall('ZSCORE', key, member))
  if score and (expires == '0' or is_live(to_score(score), now)) then return {member, score} end
  return false
end
local place = live_in(started, id, '1')
if place then return {origin, 'started', place} end
local executions = absent_if_error(redis.pcall('ZRANGE', ARGV[6] .. id .. ARGV[7], 0, -1)) or {}
for _, execution in ipairs(executions) do
  place = live_in(started, id .. ':' .. execution, '1')
  if place then return {origin, 'started', place} end
end
for i = 10, #ARGV, 4 do
  place = live_in(ARGV[i + 1] .. origin .. ARGV[i + 2], id, ARGV[i + 3])
  if place then return {origin, ARGV[i], place} end
end
return {origin, false}
