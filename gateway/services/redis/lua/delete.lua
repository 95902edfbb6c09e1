-- Run by FailedJobActions.delete (gateway/services/writes/failed_actions.py), after prelude.lua
-- and a first line `local dry = false` (DELETE) or `local dry = true` (DELETE_DRY).
-- Delete from the failed registry with everything RQ's Job.delete removes: the job hash, results
-- stream, dependents, dependencies and executions keys, and the id in its group.
-- KEYS[1] failed registry, KEYS[2] the history's seen set of it. ARGV: now, group key prefix, RQ's
-- set of group names, the only origin to act on ('' for any: a queue-limited caller deletes only
-- the registry's own jobs), then the (prefix, suffix) pairs of the keys to delete, then "--", then
-- ids. Per id: 1 deleted (orphans too), 0 not (or no longer) in the registry, or, under an only
-- origin, a job not known to be that queue's (as if absent). The dry run classifies alike and
-- writes nothing.
-- RQ names every group it creates in its set of group names (Group._add_jobs adds both in one
-- pipeline, and drops a name only once its group key is gone), so while that set is absent no
-- group holds any job: the per-job HGET of group_id, a third of a delete's cost, is skipped.
local reg, now, group_prefix, only_origin = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[4]
local grouped = redis.call('EXISTS', ARGV[3]) == 1
local parts, first_id = {}, nil
for i = 5, #ARGV, 2 do
  if ARGV[i] == '--' then first_id = i + 1 break end
  parts[#parts + 1] = {ARGV[i], ARGV[i + 1]}
end
local codes, claimed = {}, {}
-- The ZREMs and DELs are sent in batches after the loop (one call per BATCH ids or keys, not one
-- per id): the script is atomic, so no one sees the order.
local removed, doomed = {}, {}
local reg_readable = of_type(reg, 'zset')
-- Under an only origin, whether the job is not known to be that queue's: its hash names another
-- origin or none (an orphan, a hash of another type), as job_access.py decides for one job.
local function foreign(id)
  if only_origin == '' then return false end
  return redis.pcall('HGET', parts[1][1] .. id .. parts[1][2], 'origin') ~= only_origin
end
for i = first_id, #ARGV do
  local id = ARGV[i]
  if claimable(reg, reg_readable, id, now, claimed, listed) and not foreign(id) then
    claimed[id] = true
    if not dry then
      removed[#removed + 1] = id
      if grouped then
        -- pcall: a job key of the wrong type (damaged data) must not fail the whole chunk.
        local group = redis.pcall('HGET', parts[1][1] .. id .. parts[1][2], 'group_id')
        if type(group) == 'string' and group ~= '' then
          -- pcall: a group key of the wrong type leaves nothing to remove the id from.
          redis.pcall('SREM', group_prefix .. group, id)
        end
      end
      for _, part in ipairs(parts) do doomed[#doomed + 1] = part[1] .. id .. part[2] end
    end
    codes[#codes + 1] = 1
  else
    codes[#codes + 1] = 0
  end
end
take_out(reg, KEYS[2], removed)
for first = 1, #doomed, BATCH do
  redis.call('DEL', unpack(doomed, first, math.min(first + BATCH - 1, #doomed)))
end
return codes
