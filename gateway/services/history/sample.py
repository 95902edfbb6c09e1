"""What one tick of the writer reads: each queue's length and head job, and the failed and
finished registry entries it has not seen before, with their `ended_at` and `started_at`.

"Not seen before" is a set difference computed inside Redis: a mirror set per registry
(`rq-gateway:history:seen:<registry>:<queue>`, layout.py) holds the ids the writer has already
looked at, and `ZDIFF registry mirror` gives the new ones. So a tick reads the job hashes of new
entries only, whatever the size of the registries; the difference itself is one command per
registry, linear in its size but run in C (the cheapest exact way: a registry's score is expiry
time, ended_at + TTL with a TTL per job, so no score range holds exactly the new entries). The
commit (lua/commit.lua) adds the ids looked at to the mirror and drops the ids that left the
registry, so a job retried and failed again is new again.

Round trips: one pipeline for the lengths, heads and differences; then one pipeline of
HGET/HMGET per 5,000 jobs (one in steady state; more on the first tick of a large registry).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from gateway.services.history.layout import minute_of, mirror_key, parse_rq_time
from gateway.services.history.timings import bucket_field
from gateway.services.redis import damaged, keys

REGISTRIES = ("failed", "finished")
_CHUNK = 5000


@dataclass
class Minute:
    """What one tick adds to one queue's minute hash."""

    failed: int | None = None
    finished: int | None = None
    queued: int | None = None
    latency: float | None = None
    run_max: float | None = None
    sketch: Counter[str] = field(default_factory=Counter)

    def count(self, registry: str) -> None:
        if registry == "failed":
            self.failed = (self.failed or 0) + 1
        else:
            self.finished = (self.finished or 0) + 1

    def time(self, seconds: float) -> None:
        self.sketch[bucket_field(seconds)] += 1
        seconds = round(seconds, 6)
        self.run_max = seconds if self.run_max is None else max(self.run_max, seconds)

    def args(self, key: bytes, expire_at: int) -> list[Any]:
        values = (self.failed, self.finished, self.queued, self.latency, self.run_max)
        flat: list[Any] = [key, expire_at, *("" if value is None else value for value in values)]
        flat.append(len(self.sketch))
        for name, number in sorted(self.sketch.items()):
            flat.extend((name, number))
        return flat


@dataclass
class Sample:
    """The minutes to add to, and per registry the ids looked at (for its mirror)."""

    minutes: dict[tuple[int, str], Minute]
    seen: list[tuple[bytes, bytes, list[bytes]]]  # (mirror key, registry key, ids)


def read_sample(connection: Redis, names: list[str], now: float, start: float, end: float) -> Sample:
    """Count the new entries whose ended_at lies in [start, end) in their minutes; an entry that
    ended before `start` (a gap, or before the first tick) is marked seen, not counted; one that
    ended at or after `end` is left for the next tick."""
    registry_keys = {(n, r): damaged.key_bytes(keys.registry_key(r, n)) for n in names for r in REGISTRIES}
    with connection.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(damaged.key_bytes(keys.queue_key(name)))
            pipe.lindex(damaged.key_bytes(keys.queue_key(name)), 0)
            for registry in REGISTRIES:
                pipe.zdiff([registry_keys[name, registry], mirror_key(registry, name)])
        replies = damaged.execute(pipe)
    width = 2 + len(REGISTRIES)
    heads: list[tuple[str, bytes]] = []
    entries: list[tuple[str, str, bytes]] = []
    minutes: dict[tuple[int, str], Minute] = defaultdict(Minute)
    for index, name in enumerate(names):
        length, head, *new = replies[index * width : (index + 1) * width]
        sampled = minutes[minute_of(now), name]
        sampled.queued, sampled.latency = int(length or 0), 0.0
        if head:
            heads.append((name, head))
        for registry, ids in zip(REGISTRIES, new, strict=True):
            entries.extend((name, registry, job_id) for job_id in ids or ())
    enqueued, times = _job_fields(connection, [head for _, head in heads], [e[2] for e in entries])
    for (name, _), at in zip(heads, enqueued, strict=True):
        enqueued_at = parse_rq_time(at)
        if enqueued_at is not None:
            minutes[minute_of(now), name].latency = round(max(0.0, now - enqueued_at), 3)
    seen: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for (name, registry, job_id), (ended_text, started_text) in zip(entries, times, strict=True):
        ended = parse_rq_time(ended_text)
        if ended is not None and ended >= end:
            continue  # not settled: the next tick looks again
        seen[name, registry].append(job_id)  # unreadable ones too: never worth reading again
        if ended is None or ended < start:
            continue
        minute = minutes[minute_of(ended), name]
        minute.count(registry)
        started = parse_rq_time(started_text)
        if started is not None:
            minute.time(max(0.0, ended - started))
    mirrors = [
        (mirror_key(r, n), registry_keys[n, r], seen.get((n, r), [])) for n in names for r in REGISTRIES
    ]
    return Sample(minutes=minutes, seen=mirrors)


def _job_fields(
    connection: Redis, heads: list[bytes], ids: list[bytes]
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """enqueued_at of each head job, and (ended_at, started_at) of each id, 5,000 a pipeline.
    A job key of the wrong type reads as absent (damaged.execute)."""
    prefix = keys.JOB_PREFIX.encode()
    commands = [(head, ("enqueued_at",)) for head in heads] + [(i, ("ended_at", "started_at")) for i in ids]
    replies: list[Any] = []
    for begin in range(0, len(commands), _CHUNK):
        with connection.pipeline(transaction=False) as pipe:
            for job_id, fields in commands[begin : begin + _CHUNK]:
                pipe.hmget(prefix + job_id, *fields)
            replies.extend(damaged.execute(pipe))
    enqueued = [(reply or [None])[0] for reply in replies[: len(heads)]]
    times = [tuple(reply) if reply else (None, None) for reply in replies[len(heads) :]]
    return enqueued, times
