-- Run by ChunkAction.run (gateway/services/operations/chunks.py) for the walks the gateway reads
-- itself (named ids, a filter, a failure group, a search), after prelude.lua, `local dry =
-- false`, requeue.lua or delete.lua wrapped as `local function act(KEYS, ARGV, listed)`, and
-- prelude_operation.lua: the same per-job claim and action as retry-all and clear, with the
-- operation's progress in the same atomic step; a resumed operation starts exactly after the
-- last chunk recorded.
-- KEYS[1] failed registry, KEYS[2] operation hash, KEYS[3] its lease, KEYS[4] its errors list,
-- KEYS[5] the history's seen set of the registry (act's KEYS[2]), KEYS[6] its rate-limited ids.
-- ARGV[1] lease token, ARGV[2] lease ms, ARGV[3] position after this chunk, ARGV[4] entries
-- examined, ARGV[5] the codes that are errors as ",-1,3,", ARGV[6] the index of the first id in
-- act's ARGV, ARGV[7] errors kept, ARGV[8] the position this chunk starts from (the one the
-- runner recorded last), then act's ARGV.
-- Reply: a refusal (prelude_operation.lua), {'rewound'}, else act's codes.
local op, lease, errors = KEYS[2], KEYS[3], KEYS[4]
local refused = refusal(op, lease, ARGV[1])
if refused then return refused end
own_key(errors, 'list')
own_key(KEYS[6], 'list')
-- The walk goes on from the position the runner recorded last. Another one recorded means Redis
-- went back in time under it (restarted from a snapshot, or failed over to a replica that lacked
-- the last chunks) with its lease: the jobs in between are failed again, and acting on this chunk
-- would skip them. Nothing is written; the runner walks again from the recorded position.
if (redis.call('HGET', op, 'position') or '') ~= ARGV[8] then return {'rewound'} end
local inner = {}
for i = 9, #ARGV do inner[#inner + 1] = ARGV[i] end
local codes = act({KEYS[1], KEYS[5]}, inner, false)
local first_id = tonumber(ARGV[6])
local ids = {}
for i = first_id, #inner do ids[#ids + 1] = inner[i] end
record(op, lease, errors, KEYS[6], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ids, codes, ARGV[5],
       tonumber(ARGV[7]))
return codes
