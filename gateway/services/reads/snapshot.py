"""Everything /metrics shows of RQ in three pipelined round trips, whatever the number of queues
and workers, and never a write; concurrent scrapes within a second share one read.

1. the queues set and the workers set;
2. per queue, its counts (stats.count_commands, plus RQ 3's ready registry) and its head job id;
   per worker, its hash;
3. per non-empty queue, its head job's enqueued_at.

A worker whose hash is gone (it died without unregistering) is skipped, as RQ's Worker.all does,
but its key is left in the set: Worker.all would SREM it, and a scrape never writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from redis import Redis

from gateway.services.domain.gauges import QueueGauges, RqSnapshot
from gateway.services.reads.queues import age_of
from gateway.services.reads.stats import COUNT_REPLIES, count_commands, stats_from
from gateway.services.reads.workers import worker_from_hash
from gateway.services.redis import damaged, keys
from gateway.services.redis.registry import now_timestamp

T = TypeVar("T")
# Scrapes closer together than this share one read (Prometheus scrapes every 15 s or more;
# several Prometheus replicas, or a dashboard's refreshes, land within the same second).
SHARED_FOR_SECONDS = 1.0
_PER_QUEUE = COUNT_REPLIES + 2  # the counts, LINDEX 0, the ready registry's ZCARD


def read_snapshot(connection: Redis) -> RqSnapshot:
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.QUEUES_SET)
        pipe.smembers(keys.WORKERS_SET)
        queue_members, worker_members = damaged.execute(pipe)
    names = _names(queue_members, keys.QUEUE_PREFIX)
    worker_names = _names(worker_members, keys.WORKER_PREFIX)
    now = now_timestamp()
    with connection.pipeline(transaction=False) as pipe:
        for name in names:
            count_commands(pipe, name, now)
            pipe.lindex(damaged.key_bytes(keys.queue_key(name)), 0)
            pipe.zcard(damaged.key_bytes(keys.ready_registry_key(name)))
        for name in worker_names:
            pipe.hgetall(damaged.key_bytes(keys.WORKER_PREFIX + name))
        replies = damaged.execute(pipe) if names or worker_names else []
    per_queue = [replies[i * _PER_QUEUE : (i + 1) * _PER_QUEUE] for i in range(len(names))]
    hashes = replies[len(names) * _PER_QUEUE :]
    enqueued = _enqueued_at(connection, [part[COUNT_REPLIES] for part in per_queue])
    read_at = time.time()
    queues = [
        QueueGauges(
            stats=stats_from(name, part[:COUNT_REPLIES]),
            ready_count=part[COUNT_REPLIES + 1] or 0,  # a key of another type counts as empty
            latency_seconds=_latency(part[COUNT_REPLIES], enqueued, read_at),
        )
        for name, part in zip(names, per_queue, strict=True)
    ]
    workers = [worker_from_hash(name, data) for name, data in zip(worker_names, hashes, strict=True) if data]
    return RqSnapshot(queues=queues, workers=workers)


def _latency(head: bytes | None, enqueued: dict[bytes, bytes | None], read_at: float) -> float | None:
    """An empty queue has no wait: 0, not a missing sample, so alerts on it resolve."""
    return age_of(enqueued.get(head), read_at) if head else 0.0


def _names(members: Any, prefix: str) -> list[str]:
    """Set members that carry the prefix, without it, sorted; a set of another type holds none."""
    texts = (damaged.internal(member) for member in members or ())
    return sorted(text[len(prefix) :] for text in texts if text.startswith(prefix))


def _enqueued_at(connection: Redis, heads: list[bytes | None]) -> dict[bytes, bytes | None]:
    head_ids = [head for head in heads if head]
    if not head_ids:
        return {}
    with connection.pipeline(transaction=False) as pipe:
        for head in head_ids:
            pipe.hget(keys.JOB_PREFIX.encode() + head, "enqueued_at")
        return dict(zip(head_ids, damaged.execute(pipe), strict=True))


class SharedRead(Generic[T]):
    """`read()`'s value, shared by every caller within `max_age` seconds of the read: a caller
    that arrives while a read runs waits for it instead of starting another. A failed read is not
    kept, so the next caller tries again."""

    def __init__(
        self,
        read: Callable[[], T],
        max_age: float = SHARED_FOR_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._read_at = 0.0

    def get(self) -> T:
        with self._lock:
            if self._value is not None and self._clock() - self._read_at < self._max_age:
                return self._value
            value = self._read()
            self._value, self._read_at = value, self._clock()
            return value
