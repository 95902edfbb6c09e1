-- Run by empty_queue (gateway/services/writes/empty_queue.py), after prelude.lua.
-- One chunk of emptying a queue, as `rq empty` does it (Queue.empty): take ids from the head of
-- the queue's list and delete each with everything RQ's Job.delete removes (the job hash, results
-- stream, dependents, dependencies and executions keys, and the id in its group), but for an
-- RQ 3 rate-limit slot: as after `rq empty`, RQ's next registry cleanup frees it.
-- KEYS[1] the queue's list. ARGV: how many ids to take, group key prefix, RQ's set of group
-- names, then the (prefix, suffix) pairs of the keys to delete. Reply: {the number of ids taken,
-- the number left in the list}.
-- Taking and deleting are one step: a worker's dequeue runs before or after it, so each id goes
-- to exactly one of them. A list of another type fails the call (WRONGTYPE: damaged data).
local queue, limit, group_prefix = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local ids = redis.call('LRANGE', queue, 0, limit - 1)
if #ids == 0 then return {0, 0} end
redis.call('LTRIM', queue, #ids, -1)
local grouped = redis.call('EXISTS', ARGV[3]) == 1
local doomed = {}
for _, id in ipairs(ids) do
  if grouped then
    -- pcall: a job or group key of the wrong type (damaged data) must not fail the chunk.
    local group = redis.pcall('HGET', ARGV[4] .. id .. ARGV[5], 'group_id')
    if type(group) == 'string' and group ~= '' then redis.pcall('SREM', group_prefix .. group, id) end
  end
  for i = 4, #ARGV, 2 do doomed[#doomed + 1] = ARGV[i] .. id .. ARGV[i + 1] end
end
for first = 1, #doomed, BATCH do
  redis.call('DEL', unpack(doomed, first, math.min(first + BATCH - 1, #doomed)))
end
return {#ids, redis.call('LLEN', queue)}
