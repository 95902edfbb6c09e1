-- Put before the operation scripts by scripts.py. An operation's own keys (the index, the
-- running set, its errors and rate-limited lists) each hold one Redis type. One of another type is
-- damaged data, which reads as absent (README "Damaged data"): it is replaced before the script
-- writes, rather than failing the script half-way, since a script's writes before an error stay.
local function own_key(key, kind)
  local found = redis.call('TYPE', key).ok
  if found ~= kind and found ~= 'none' then redis.call('DEL', key) end
end
