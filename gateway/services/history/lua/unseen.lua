-- Run by walk.walk_round (gateway/services/history/walk.py), pipelined, one call per slice.
-- KEYS[1] the sorted set walked, KEYS[2] the sorted set its members are looked up in. ARGV[1]
-- 'rank' (a registry: ARGV[2] is the slice's first rank) or 'lex' (a mirror, every score 0:
-- ARGV[2] is the member the slice starts after, '' from the start, so the writer's own adds and
-- forgets never shift the walk); ARGV[3] the slice's length. Returns {walked, last, id, ...}:
-- how many members the slice held (fewer than asked: the walk reached the end), the last of them
-- ('' if none), and those absent from KEYS[2]. Bounded by the slice, whatever the sizes of the
-- two sets: one range read and one ZMSCORE. Either key of another type than sorted set (damaged
-- data) is left alone: {0, ''}, nothing walked.
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'zset' and kind ~= 'none' then return {0, ''} end
end
local count = tonumber(ARGV[3])
local ids
if ARGV[1] == 'lex' then
  local after = ARGV[2] == '' and '-' or '(' .. ARGV[2]
  ids = redis.call('ZRANGEBYLEX', KEYS[1], after, '+', 'LIMIT', 0, count)
else
  local first = tonumber(ARGV[2])
  ids = redis.call('ZRANGE', KEYS[1], first, first + count - 1)
end
if #ids == 0 then return {0, ''} end
local out = {#ids, ids[#ids]}
local scores = redis.call('ZMSCORE', KEYS[2], unpack(ids))
for i = 1, #ids do
  if not scores[i] then out[#out + 1] = ids[i] end
end
return out
