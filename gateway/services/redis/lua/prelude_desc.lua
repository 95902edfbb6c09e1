-- Descending twins of rank_after/live_from (prelude.lua), for listings newest first.
-- Prepended, after prelude.lua, to live_before.lua.
-- Number of entries whose (score, id) comes before the cursor (score, id): the rank to end at.
local function rank_before(key, score, id)
  return rank_after(key, score, id, true)
end

-- Up to `limit` live entries from rank `start` down to rank 0, as flat {id, score, ...}.
local function live_down(key, start, limit, neg, expired)
  local out = {}
  if start >= neg and start < neg + expired then start = neg - 1 end
  while limit > 0 and start >= 0 do
    local low = 0
    if start >= neg + expired then low = neg + expired end
    low = math.max(low, start - limit + 1)
    local got = redis.call('ZRANGE', key, low, start, 'WITHSCORES')
    for i = #got - 1, 1, -2 do
      out[#out + 1] = got[i]
      out[#out + 1] = got[i + 1]
    end
    limit = limit - (start - low + 1)
    start = low - 1
    if start >= neg and start < neg + expired then start = neg - 1 end
  end
  return out
end
