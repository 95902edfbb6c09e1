-- Run by RegistryReader.last (gateway/services/redis/registry.py), after prelude.lua.
-- KEYS[1] registry; ARGV now. Returns {live_total, {id, score}} of the last live entry, read in
-- one step so a registry that shrinks meanwhile cannot leave the two out of step.
local key, now = KEYS[1], tonumber(ARGV[1])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local rank = card - 1
if rank < neg + expired then rank = neg - 1 end
if rank < 0 then return {card - expired, {}} end
return {card - expired, redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')}
