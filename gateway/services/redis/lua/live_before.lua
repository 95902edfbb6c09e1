-- Run by RegistryReader.before (gateway/services/redis/registry.py), after prelude.lua and
-- prelude_desc.lua.
-- KEYS[1] registry; ARGV now, limit, [cursor score, cursor id]. Entries strictly before the
-- cursor, newest (highest score) first.
local key, now, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local stop = card
if ARGV[3] then stop = rank_before(key, ARGV[3], ARGV[4]) end
return {card - expired, live_down(key, stop - 1, limit, neg, expired)}
