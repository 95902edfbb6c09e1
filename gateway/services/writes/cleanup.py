"""Explicit registry cleanup: RQ's own clean_registries for one queue, as `rq worker` runs it in
its maintenance pass. This is the only code path of the gateway that runs RQ's cleanup; every
read leaves expired entries in place."""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.exceptions import ResponseError
from rq.queue import Queue
from rq.registry import clean_registries

from gateway.errors import CleanupBlocked
from gateway.services.domain.models import CleanupOutcome
from gateway.services.redis import damaged, keys
from gateway.services.redis.registry import now_timestamp

# RQ's cleanup removes entries scored by expiry; the started registry's expired entries are
# abandoned jobs, which RQ moves to the failed registry (or retries) as it removes them.
_EXPIRING = ("started", "finished", "failed")
# Scored by run, creation or cancel time: RQ's cleanup never removes their entries.
_NEVER_CLEANED = ("deferred", "scheduled", "canceled")
_SORTED_OR_NONE = (b"zset", b"none", "zset", "none")


def cleanup_queue(connection: Redis, queue_name: str, serializer: Any) -> CleanupOutcome:
    """Run RQ's clean_registries on the queue and report, per registry, the entries that had
    expired when it started (counted just before, in one round trip)."""
    now = now_timestamp()
    cleaned = {state: keys.registry_key(state, queue_name) for state in (*_EXPIRING, "deferred")}
    cleaned["ready"] = keys.ready_registry_key(queue_name)
    with connection.pipeline(transaction=False) as pipe:
        for state in _EXPIRING:
            pipe.zcount(cleaned[state], 0, now)
        for key in cleaned.values():
            pipe.type(damaged.key_bytes(key))
        replies = pipe.execute(raise_on_error=False)
    expired, types = replies[: len(_EXPIRING)], replies[len(_EXPIRING) :]
    # RQ's cleanup reads each registry as a sorted set: one of another type would fail it midway.
    wrong = tuple(state for state, kind in zip(cleaned, types, strict=True) if kind not in _SORTED_OR_NONE)
    if wrong:
        raise CleanupBlocked(queue_name, wrong)
    for reply in expired:
        if isinstance(reply, Exception):
            raise reply
    try:
        clean_registries(Queue(queue_name, connection=connection, serializer=serializer))
    except ResponseError as error:  # damage further on: the rate-limit keys, a job's own keys
        if not damaged.is_wrong_type(error):
            raise
        raise CleanupBlocked(queue_name) from None
    except UnicodeDecodeError:  # RQ decodes every rate-limit key name: one that is not UTF-8
        raise CleanupBlocked(queue_name) from None
    removed: dict[str, int] = dict(zip(_EXPIRING, expired, strict=True))
    removed.update(dict.fromkeys(_NEVER_CLEANED, 0))
    return CleanupOutcome(queue_name=queue_name, removed=removed)
