-- Run by RegistryReader.after (gateway/services/redis/registry.py), after prelude.lua.
-- KEYS[1] registry; ARGV now, limit, [cursor score, cursor id]. Entries strictly after the cursor.
local key, now, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local start = 0
if ARGV[3] then start = rank_after(key, ARGV[3], ARGV[4]) end
return {card - expired, live_from(key, start, limit, neg, expired, card)}
