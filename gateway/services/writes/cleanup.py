"""Explicit registry cleanup: RQ's own clean_registries for one queue, as `rq worker` runs it in
its maintenance pass. This is the only code path of the gateway that runs RQ's cleanup; every
read leaves expired entries in place."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq.queue import Queue
from rq.registry import clean_registries

from gateway.services.domain.models import CleanupOutcome
from gateway.services.redis import keys
from gateway.services.redis.registry import now_timestamp

# RQ's cleanup removes entries scored by expiry; the started registry's expired entries are
# abandoned jobs, which RQ moves to the failed registry (or retries) as it removes them.
_EXPIRING = ("started", "finished", "failed")
# Scored by run, creation or cancel time: RQ's cleanup never removes their entries.
_NEVER_CLEANED = ("deferred", "scheduled", "canceled")


def cleanup_queue(connection: Redis, queue_name: str, serializer: Any) -> CleanupOutcome:
    """Run RQ's clean_registries on the queue and report, per registry, the entries that had
    expired when it started (counted just before, in one round trip)."""
    now = now_timestamp()
    with connection.pipeline(transaction=False) as pipe:
        for state in _EXPIRING:
            pipe.zcount(keys.registry_key(state, queue_name), 0, now)
        expired = pipe.execute()
    clean_registries(Queue(queue_name, connection=connection, serializer=serializer))
    removed: dict[str, int] = dict(zip(_EXPIRING, expired, strict=True))
    removed.update(dict.fromkeys(_NEVER_CLEANED, 0))
    return CleanupOutcome(queue_name=queue_name, removed=removed)
