-- Run by OperationStore.take_finish_record (gateway/services/operations/store.py).
-- Whether the caller writes an ended operation's finish record to the audit trail: yes to the
-- first that asks, no to every other. A canceled operation has two possible writers, the runner
-- that stops on the cancel and the canceling process when no runner holds the lease; each asks.
-- KEYS[1] operation hash.
-- Reply: 1 the caller writes it; 0 another caller did, the operation still runs, or it is gone
-- (or damaged, which reads as gone).
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'running' then return 0 end
return redis.call('HSETNX', KEYS[1], 'finish_recorded', '1')
