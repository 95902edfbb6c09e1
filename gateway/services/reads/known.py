"""Whether RQ knows a queue: the one rule behind every 404 `Queue 'x' not found`.

A queue is known when it is in RQ's queues set, or any of its keys exists: the queue itself, one of
its registries, or the set of workers listening to it. An unknown queue that a request names
explicitly is a 404, so a mistyped name never looks like an empty queue; the gateway's default
queue, used when a request names none, is never checked (the contract answers zeros for it).

The check is one MULTI/EXEC, so a job moving between the queue and its registries meanwhile can
never make all of them look empty at once. Reads that already count the queue's keys (stats) add
the rest of the rule to their own pipeline; the others call `ensure_known` only when their answer
is empty, so a non-empty answer costs no extra round trip.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.client import Pipeline

from gateway.errors import QueueNotFound
from gateway.services.redis import keys

REGISTRIES = ("started", "failed", "finished", "deferred", "scheduled", "canceled")
# Replies membership_commands adds to a pipeline.
MEMBERSHIP_REPLIES = 2


def membership_commands(pipe: Pipeline, queue_name: str) -> None:
    """The part of the rule that is not a count of the queue or its registries."""
    pipe.sismember(keys.QUEUES_SET, keys.queue_key(queue_name))
    pipe.exists(keys.workers_of_queue_key(queue_name))


def known_commands(pipe: Pipeline, queue_name: str) -> None:
    """The whole rule; `is_known` of the replies it adds (membership + 1) says the answer."""
    membership_commands(pipe, queue_name)
    pipe.exists(keys.queue_key(queue_name), *(keys.registry_key(state, queue_name) for state in REGISTRIES))


def is_known(replies: list[Any]) -> bool:
    return any(replies)


def ensure_known(connection: Redis, queue_name: str) -> None:
    """QueueNotFound unless RQ knows the queue."""
    with connection.pipeline(transaction=True) as pipe:
        known_commands(pipe, queue_name)
        replies = pipe.execute()
    if not is_known(replies):
        raise QueueNotFound(queue_name)
