-- Run by FailedJobActions.delete (gateway/services/writes/failed_actions.py), after prelude.lua
-- and a first line `local dry = false` (DELETE) or `local dry = true` (DELETE_DRY).
-- Delete from the failed registry with everything RQ's Job.delete removes: the job hash, results
-- stream, dependents, dependencies and executions keys, and the id in its group.
-- KEYS[1] failed registry. ARGV: now, group key prefix, then the (prefix, suffix) pairs of the
-- keys to delete, then "--", then ids. Per id: 1 deleted (orphans too), 0 not (or no longer) in
-- the registry. The dry run classifies alike and writes nothing.
local reg, now, group_prefix = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local parts, first_id = {}, nil
for i = 3, #ARGV, 2 do
  if ARGV[i] == '--' then first_id = i + 1 break end
  parts[#parts + 1] = {ARGV[i], ARGV[i + 1]}
end
local codes, claimed = {}, {}
local reg_readable = of_type(reg, 'zset')
for i = first_id, #ARGV do
  local id = ARGV[i]
  local score = false
  if reg_readable and not claimed[id] then score = redis.call('ZSCORE', reg, id) end
  if score and is_live(to_score(score), now) then
    claimed[id] = true
    if not dry then
      redis.call('ZREM', reg, id)
      -- pcall: a job key of the wrong type (damaged data) must not fail the whole chunk.
      local group = redis.pcall('HGET', parts[1][1] .. id .. parts[1][2], 'group_id')
      if type(group) == 'string' and group ~= '' then
        -- pcall: a group key of the wrong type leaves nothing to remove the id from.
        redis.pcall('SREM', group_prefix .. group, id)
      end
      local doomed = {}
      for j, part in ipairs(parts) do doomed[j] = part[1] .. id .. part[2] end
      redis.call('DEL', unpack(doomed))
    end
    codes[#codes + 1] = 1
  else
    codes[#codes + 1] = 0
  end
end
return codes
