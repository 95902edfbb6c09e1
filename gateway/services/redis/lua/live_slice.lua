-- Run by RegistryReader.slice (gateway/services/redis/registry.py), after prelude.lua.
-- KEYS[1] registry; ARGV now, offset, limit (-1: all). Returns {live_total, {id, score, ...}}.
local key, now = KEYS[1], tonumber(ARGV[1])
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if not of_type(key, 'zset') then return {0, {}} end
local neg, expired, card = live_bounds(key, now)
local total = card - expired
if limit < 0 then limit = total end
local start = offset
if offset >= neg then start = offset + expired end
return {total, live_from(key, start, limit, neg, expired, card)}
