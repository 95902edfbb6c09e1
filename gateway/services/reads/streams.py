"""A failed registry read a chunk at a time, as the caller consumes it.

The contract's `GET /failed` without `limit` is the whole registry. Read in one go, 100k failed
jobs held a gateway at 343 MB; read and written a chunk at a time, memory holds one chunk.

Order and offset/limit are those of one registry slice: the first chunk is a slice from
`offset`, each next one continues strictly after the last (score, id) read, so a job retried or
deleted meanwhile neither shifts the list nor makes it repeat a job."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.domain.models import JobInfo
from gateway.services.reads.filtered import FilteredView
from gateway.services.redis import keys
from gateway.services.redis.fetch import fetch_jobs
from gateway.services.redis.registry import RegistryReader

# Jobs per Redis round trip (one pipeline of HGETALL + XREVRANGE per job) and per written chunk.
STREAM_CHUNK = 500


@dataclass(frozen=True)
class JobStream:
    """Jobs in chunks, read from Redis as they are iterated. Iterate it once."""

    chunks: Iterator[list[JobInfo]]
    # Known only once prefetched: True when the stream holds no job at all.
    empty: bool = False

    def __iter__(self) -> Iterator[list[JobInfo]]:
        return self.chunks

    def map(self, function: Callable[[list[JobInfo]], list[JobInfo]]) -> JobStream:
        """The same stream with `function` applied to each chunk when it is read."""
        return JobStream((function(chunk) for chunk in self.chunks), self.empty)

    def prefetched(self) -> JobStream:
        """The same stream with its first chunk read now, so that a failure to read anything
        (Redis down, a bad queue) is raised by the call that built it, not mid-answer."""
        first = next(self.chunks, None)
        if first is None:
            return JobStream(iter(()), empty=True)
        return JobStream(_chain(first, self.chunks))


def _chain(first: list[JobInfo], rest: Iterator[list[JobInfo]]) -> Iterator[list[JobInfo]]:
    yield first
    yield from rest


def registry_chunks(
    connection: Redis,
    reader: RegistryReader,
    serializer: Any,
    queue_name: str,
    offset: int,
    limit: int | None,
    chunk: int | None = None,
) -> Iterator[list[JobInfo]]:
    """The live failed jobs of a queue from position `offset`, at most `limit` (None: all),
    `chunk` (default STREAM_CHUNK) per round trip."""
    chunk = chunk or STREAM_CHUNK
    key = keys.registry_key("failed", queue_name)
    remaining = limit
    size = chunk if remaining is None else min(chunk, remaining)
    _, entries = reader.slice(key, offset, size)
    while entries:
        ids = [entry.job_ref for entry in entries]
        yield fetch_jobs(connection, ids, serializer, queue_name, in_failed_registry=True)
        if remaining is not None:
            remaining -= len(entries)
        if len(entries) < size or remaining == 0:
            return
        size = chunk if remaining is None else min(chunk, remaining)
        last = entries[-1]
        _, entries = reader.after(key, (last.score, last.raw), size)


def filtered_chunks(view: FilteredView, offset: int, limit: int | None) -> Iterator[list[JobInfo]]:
    """Matching jobs from the `offset`-th match, at most `limit` of them (None: all)."""
    if limit == 0:
        return
    skipped, remaining = 0, limit
    for _, matches in view.walk():
        if skipped < offset:
            skip = min(offset - skipped, len(matches))
            skipped += skip
            matches = matches[skip:]
        if remaining is not None:
            matches = matches[:remaining]
            remaining -= len(matches)
        if matches:
            yield view.jobs_of(matches, with_results=True)
        if remaining == 0:
            return
