"""Every queue RQ knows, with its registry counts, latency and listening workers: three pipelined
round trips whatever the number of queues, and no writes (RQ's own counts clean up first)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from redis import Redis

from gateway.errors import QueueNotFound
from gateway.services.domain.models import QueueInfo
from gateway.services.domain.rqtime import RQ_TIME_FORMAT
from gateway.services.reads import known
from gateway.services.reads.stats import COUNT_REPLIES, count_commands, stats_from
from gateway.services.redis import damaged, keys
from gateway.services.redis.registry import now_timestamp

# Replies per queue in the second round trip: the counts, the head job id, the listening workers.
_PER_QUEUE = COUNT_REPLIES + 2


def queue_names(connection: Redis) -> list[str]:
    """Names in RQ's queues set, sorted. Members without RQ's queue prefix are not queues. A
    name that is not UTF-8 is kept as damaged.internal() text: its counts are read from its own
    keys, and it is shown escaped. A queues set of another type holds no queue."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.QUEUES_SET)
        (members,) = damaged.execute(pipe)
    prefix = keys.QUEUE_PREFIX
    texts = (damaged.internal(member) for member in members or ())
    return sorted(text[len(prefix) :] for text in texts if text.startswith(prefix))


def list_queues(connection: Redis) -> list[QueueInfo]:
    return _read(connection, queue_names(connection))


def get_queue(connection: Redis, name: str) -> QueueInfo:
    """One queue; QueueNotFound when RQ does not know it (services/reads/known.py)."""
    (info,) = _read(connection, [name], check_known=True)
    return info


def _read(connection: Redis, names: list[str], check_known: bool = False) -> list[QueueInfo]:
    now = now_timestamp()
    with connection.pipeline(transaction=check_known) as pipe:
        for name in names:
            count_commands(pipe, name, now)
            pipe.lindex(damaged.key_bytes(keys.queue_key(name)), 0)
            pipe.smembers(damaged.key_bytes(keys.workers_of_queue_key(name)))
        if check_known:
            known.known_commands(pipe, names[0])
        replies = damaged.execute(pipe)
    per_queue = [replies[i * _PER_QUEUE : (i + 1) * _PER_QUEUE] for i in range(len(names))]
    heads = [part[COUNT_REPLIES] for part in per_queue]
    listening = [set(part[COUNT_REPLIES + 1] or ()) for part in per_queue]
    enqueued, alive = _heads_and_workers(connection, heads, set().union(*listening))
    read_at = time.time()
    queues = [
        QueueInfo(
            stats=stats_from(name, part[:COUNT_REPLIES]),
            latency_seconds=age_of(enqueued.get(head), read_at) if head else None,
            worker_count=len(workers & alive),
            name_decodes=damaged.decodes(name),
        )
        for name, part, head, workers in zip(names, per_queue, heads, listening, strict=True)
    ]
    if check_known and not known.is_known(replies[-known.MEMBERSHIP_REPLIES - 1 :]):
        raise QueueNotFound(names[0])
    return queues


def _heads_and_workers(
    connection: Redis, heads: list[bytes | None], worker_keys: set[bytes]
) -> tuple[dict[bytes, bytes | None], set[bytes]]:
    """enqueued_at of each head job, and the worker keys whose hash still exists (a worker that
    died without unregistering leaves its key in the sets; RQ's Worker.all skips it too)."""
    head_ids = [head for head in heads if head]
    workers = sorted(worker_keys)
    if not head_ids and not workers:
        return {}, set()
    with connection.pipeline(transaction=False) as pipe:
        for head in head_ids:
            pipe.hget(keys.JOB_PREFIX.encode() + head, "enqueued_at")
        for worker in workers:
            pipe.exists(worker)
        replies = damaged.execute(pipe)
    enqueued = dict(zip(head_ids, replies[: len(head_ids)], strict=True))
    alive = {worker for worker, exists in zip(workers, replies[len(head_ids) :], strict=True) if exists}
    return enqueued, alive


def age_of(enqueued_at: bytes | None, read_at: float) -> float | None:
    if not enqueued_at:
        return None
    try:
        stamp = datetime.strptime(enqueued_at.decode(), RQ_TIME_FORMAT).replace(tzinfo=timezone.utc)
    except (ValueError, UnicodeDecodeError):
        return None
    return round(max(0.0, read_at - stamp.timestamp()), 3)
