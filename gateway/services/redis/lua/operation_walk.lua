-- Run by RegistrySteps.step (gateway/services/operations/registry_steps.py) for an operation
-- over every failed job: one call reads the next live registry entries after the stored
-- position, acts on them and records the progress, so the gateway handles no job (and two calls
-- can be queued one behind the other: each starts where the operation's position says).
-- After prelude.lua, `local dry = false`, requeue.lua or delete.lua wrapped as
-- `local function act(KEYS, ARGV, listed)`, and prelude_operation.lua.
-- KEYS[1] failed registry, KEYS[2] operation hash, KEYS[3] its lease, KEYS[4] its errors list,
-- KEYS[5] the history's seen set of the registry (act's KEYS[2]), KEYS[6] its rate-limited ids.
-- ARGV[1] lease token, ARGV[2] lease ms, ARGV[3] entries to take, ARGV[4] and ARGV[5] the walk's
-- end (the score and member of the registry's last entry when the operation started: jobs failing
-- meanwhile land after it), ARGV[6] the codes that are errors as ",-1,3,", ARGV[7] errors kept,
-- ARGV[8] now (entries scored in [0, now] are expired: not live), then act's ARGV without ids.
-- The position is stored in the operation as "<score> <member in hex>" (hash values must be text),
-- and `walked` = 1 once a call found the walk's end.
-- Reply: a refusal (prelude_operation.lua), else {entries examined, 1 when the walk has ended,
-- then the rate-limited ids (code 2), which the runner hands to RQ's own requeue}.
local reg, op, lease, errors = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local refused = refusal(op, lease, ARGV[1])
if refused then return refused end
own_key(errors, 'list')
own_key(KEYS[6], 'list')
local size, now = tonumber(ARGV[3]), tonumber(ARGV[8])
local bound_score, bound_member = to_score(ARGV[4]), ARGV[5]

local function hex(s)
  return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
local function unhex(h)
  return (string.gsub(h, '..', function(cc) return string.char(tonumber(cc, 16)) end))
end
local function beyond_bound(score, member)
  local s = to_score(score)
  if s ~= bound_score then return s > bound_score end
  return not id_le(member, bound_member)
end

local entries = {}
if of_type(reg, 'zset') then
  local neg, expired, card = live_bounds(reg, now)
  local start = 0
  local position = redis.call('HGET', op, 'position')
  if position and position ~= '' then
    local space = string.find(position, ' ', 1, true)
    start = rank_after(reg, string.sub(position, 1, space - 1), unhex(string.sub(position, space + 1)))
  end
  entries = live_from(reg, start, size, neg, expired, card)
end
local ended = #entries < 2 * size
local ids, last_score, last_member = {}, nil, nil
for i = 1, #entries, 2 do
  if beyond_bound(entries[i + 1], entries[i]) then
    ended = true
    break
  end
  ids[#ids + 1] = entries[i]
  last_score, last_member = entries[i + 1], entries[i]
end

-- The walk's last entry taken: nothing more to read (saves a call that would find that out).
if last_member == bound_member and to_score(last_score) == bound_score then ended = true end

-- The walk's end is recorded with its last chunk: the runner ends the operation only where Redis
-- holds it (operation_end.lua), so an end written to another server than the chunks (a failover
-- between them) finds the walk unfinished there, and the runner walks on from its position.
if ended then redis.call('HSET', op, 'walked', '1') end
local reply = {#ids, ended and 1 or 0}
if #ids > 0 then
  local inner = {}
  for i = 9, #ARGV do inner[#inner + 1] = ARGV[i] end
  for _, id in ipairs(ids) do inner[#inner + 1] = id end
  local codes = act({reg, KEYS[5]}, inner, true)  -- listed: read as live entries just above
  local position = last_score .. ' ' .. hex(last_member)
  record(op, lease, errors, KEYS[6], tonumber(ARGV[2]), position, #ids, ids, codes, ARGV[6],
         tonumber(ARGV[7]))
  for i, code in ipairs(codes) do
    if code == 2 then reply[#reply + 1] = ids[i] end
  end
end
return reply
