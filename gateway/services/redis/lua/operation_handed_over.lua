-- Run by OperationStore.handed_over (gateway/services/operations/store.py). A rate-limited job
-- went through RQ's requeue: take it off the operation's list by name and, when RQ requeued it,
-- count it, only if this call took it off: a call sent again (redis-py re-sends a command once
-- after a dropped connection) or a stalled runner beside its successor counts it once.
-- KEYS[1] operation hash, KEYS[2] its rate-limited list. ARGV: the member, 1 when RQ requeued it.
if redis.call('LREM', KEYS[2], 1, ARGV[1]) == 1 and ARGV[2] == '1' then
  redis.call('HINCRBY', KEYS[1], 'acted', 1)
end
return 1
