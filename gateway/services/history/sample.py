"""What one tick of the writer reads besides the registry walks (walk.py): each queue's length
and head job, and the `ended_at`/`started_at` of the entries a walk found new.

Round trips: the lengths and heads ride in the first walk round's pipeline; the job fields take
one pipeline of HMGETs per 5,000 jobs (one per walk round in practice: a round finds at most
walk.BUDGET new entries).
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from gateway.services.history.batch import Batch
from gateway.services.history.layout import minute_of
from gateway.services.redis import damaged, keys

_CHUNK = 5000


def queue_commands(names: list[str]) -> list[tuple[Any, ...]]:
    """Pipeline calls for each queue's length and head job id."""
    commands: list[tuple[Any, ...]] = []
    for name in names:
        commands.append(("llen", damaged.key_bytes(keys.queue_key(name))))
        commands.append(("lindex", damaged.key_bytes(keys.queue_key(name)), 0))
    return commands


def queue_samples(names: list[str], replies: list[Any], now: float) -> tuple[Batch, list[tuple[str, bytes]]]:
    """The sampled minute of each queue (length; latency 0 until its head job is read), and the
    queues' head job ids."""
    sampled = Batch()
    heads = []
    for index, name in enumerate(names):
        length, head = replies[2 * index : 2 * index + 2]
        minute = sampled.minutes[minute_of(now), name]
        minute.queued, minute.latency = int(length or 0), 0.0
        if head:
            heads.append((name, head))
    return sampled, heads


def read_job_fields(
    connection: Redis, heads: list[bytes], ids: list[bytes]
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """enqueued_at of each head job, and (ended_at, started_at) of each id, 5,000 a pipeline.
    A job key of the wrong type reads as absent (damaged.execute). A job RQ ended without an
    ended_at (one stopped by a stop-job command: RQ leaves it empty) ended at its last heartbeat,
    the worker's last sign of it running."""
    prefix = keys.JOB_PREFIX.encode()
    ended = ("ended_at", "started_at", "last_heartbeat")
    commands = [(head, ("enqueued_at",)) for head in heads] + [(i, ended) for i in ids]
    replies: list[Any] = []
    for begin in range(0, len(commands), _CHUNK):
        with connection.pipeline(transaction=False) as pipe:
            for job_id, fields in commands[begin : begin + _CHUNK]:
                pipe.hmget(prefix + job_id, *fields)
            replies.extend(damaged.execute(pipe))
    enqueued = [(reply or [None])[0] for reply in replies[: len(heads)]]
    times = [(reply[0] or reply[2], reply[1]) if reply else (None, None) for reply in replies[len(heads) :]]
    return enqueued, times
