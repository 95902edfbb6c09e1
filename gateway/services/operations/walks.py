"""What an operation walks: chunks of the jobs it selects, each with the position right after it.
The position is stored in the operation with the chunk's progress, by the same Lua call that acts
on the chunk (operation_chunk.lua, chunks.py), so a resumed walk starts exactly after the last
chunk done.

- RegistryWalk: the failed registry in registry order, up to the last entry present when the
  operation started (jobs failing meanwhile land after it), optionally through a selection
  (a filter, a failure group) that reads the jobs of each chunk.
- IdsWalk: named ids, in the order given; its position is an index.
- SearchWalk: the failed registry through a search query, up to the same last entry; its
  position is the scan's cursor.

A selective walk's chunk holds at most a call's most jobs (size) among at most `reach` entries:
it reads many entries for few matches, and ends right after its last job when it has its most.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.domain.search_query import SearchQuery
from gateway.services.operations.model import Selector
from gateway.services.reads.filtered import matching_entries
from gateway.services.reads.search import SearchHit, SearchScope, scan_search
from gateway.services.reads.search_cursor import decode_search_cursor
from gateway.services.redis import keys
from gateway.services.redis.registry import Entry, RegistryReader, decode_cursor
from gateway.services.writes.groups import in_group

Select = Callable[[list[Entry]], list[Entry]]
Size = Callable[[], int]
# A selective walk reads its entries this many at a time (or a call's most jobs, when more) until
# it has a call's most jobs or its reach: a dense selection reads about what it acts on.
PROBE = 100


@dataclass(frozen=True)
class Chunk:
    members: list[str | bytes]  # the selected jobs, as the registry holds them
    job_ids: list[str]
    examined: int  # entries (or ids) this chunk covers, selected or not
    position: str  # where the walk resumes after this chunk


class RegistryWalk:
    def __init__(self, reader: RegistryReader, key: str, bound: str, select: Select | None = None):
        self._reader = reader
        self._key = key
        self._bound = _position(bound) if bound else None
        self._select = select

    def chunks(self, position: str, size: Size, reach: Size | None = None) -> Iterator[Chunk]:
        """Chunks of at most size() selected jobs among at most reach() entries (size() without
        it); a chunk that selects more ends right after its size()-th selected job."""
        if self._bound is None:
            return
        cursor = decode_cursor(position) if position else None
        while True:
            most = size()
            limit = max(most, reach() if reach else most)
            covered: list[Entry] = []
            selected: list[Entry] = []
            while len(covered) < limit and len(selected) < most:
                count = min(max(most, PROBE), limit - len(covered))
                _, entries = self._reader.after(self._key, cursor, count)
                in_bound = [e for e in entries if e.position <= self._bound]
                if not in_bound:
                    break
                picked = self._select(in_bound) if self._select is not None else in_bound
                if len(selected) + len(picked) > most:
                    picked = picked[: most - len(selected)]
                    last = picked[-1].raw
                    in_bound = in_bound[: next(i for i, e in enumerate(in_bound) if e.raw == last) + 1]
                covered += in_bound
                selected += picked
                cursor = (in_bound[-1].score, in_bound[-1].raw)
                if len(in_bound) < count:  # the registry's end, or the bound's
                    break
            if not covered:
                return
            yield Chunk(
                [e.member for e in selected], [e.job_id for e in selected], len(covered), covered[-1].cursor
            )


class IdsWalk:
    def __init__(self, job_ids: list[str]):
        self._ids = job_ids

    def chunks(self, position: str, size: Size, reach: Size | None = None) -> Iterator[Chunk]:
        """Every named id is selected: chunks of size() ids (reach, of entries examined, is the
        same)."""
        start = int(position or 0)
        while start < len(self._ids):
            ids = self._ids[start : start + size()]
            start += len(ids)
            yield Chunk(list(ids), ids, len(ids), str(start))


class SearchWalk:
    """The failed registry through a search query (reads/search.py's scan_search, the one search
    walk), up to the last entry present when the operation started, as RegistryWalk: its position
    is the scan's own cursor, which resumes exactly after the last entry examined, so a job is met
    once however the walk is split. Jobs failing meanwhile land after the bound and are left, so
    a job the walk's retry requeued and a worker failed again is not met, and retried, again."""

    def __init__(self, connection: Redis, serializer: Any, queue: str, query: SearchQuery, bound: str):
        self._connection = connection
        self._serializer = serializer
        self._query = query
        self._scope = SearchScope(queues=(queue,), states=("failed",))
        self._reader = RegistryReader(connection)
        self._key = keys.registry_key("failed", queue)
        self._bound = _position(bound) if bound else None

    def chunks(self, position: str, size: Size, reach: Size | None = None) -> Iterator[Chunk]:
        """Chunks of at most size() matches among at most reach() entries (size() without it), read
        a probe at a time; a chunk with more matches ends right after its size()-th, where that
        hit's cursor resumes."""
        cursor = position or None
        while True:
            most = size()
            limit = max(most, reach() if reach else most)
            hits: list[SearchHit] = []
            examined, read, resume = 0, 0, cursor
            while read < limit and len(hits) < most:
                # The scan examines as many entries as lie up to the bound among its next ones.
                within = self._within(resume, min(max(most, PROBE), limit - read))
                if not within:
                    break
                found = next(
                    scan_search(
                        self._connection, self._serializer, self._query, self._scope, resume, within, within
                    )
                )  # one probe; the rest of this scan is never read
                if found.complete or found.cursor is None:
                    break
                read += within
                if len(hits) + len(found.hits) >= most:
                    last = found.hits[most - len(hits) - 1]
                    hits += found.hits[: most - len(hits)]
                    examined, resume = examined + last.scanned, last.cursor
                    break
                hits += found.hits
                examined, resume = examined + found.scanned, found.cursor
            if resume is None or resume == cursor:
                return
            # Entries removed since _within was read let the scan reach past the bound.
            ids = [hit.job.job_id for hit in hits if self._in_bound(hit.cursor)]
            yield Chunk(list(ids), ids, examined, resume)
            cursor = resume

    def _within(self, cursor: str | None, size: int) -> int:
        if self._bound is None:  # the registry was empty when the operation started
            return 0
        after = decode_search_cursor(cursor)[2] if cursor else None
        if after == "":  # the scan's end of the registry
            return 0
        _, entries = self._reader.after(self._key, decode_cursor(after) if after else None, size)
        return sum(1 for entry in entries if entry.position <= self._bound)

    def _in_bound(self, cursor: str) -> bool:
        inner = decode_search_cursor(cursor)[2]
        return self._bound is not None and bool(inner) and _position(inner) <= self._bound


def _position(cursor: str) -> tuple[float, bytes]:
    """A registry cursor's (score, member), in Redis's order (Entry.position)."""
    score, member = decode_cursor(cursor)
    return float(score), member


Walk = RegistryWalk | IdsWalk | SearchWalk


def walk_for(connection: Redis, serializer: Any, queue: str, selector: Selector, bound: str) -> Walk:
    """The walk a selector makes over the queue's failed registry (`bound`: its last entry when
    the operation started, as a cursor)."""
    if selector.kind == "job_ids":
        return IdsWalk(selector.value)
    if selector.kind == "query":
        return SearchWalk(connection, serializer, queue, selector.query, bound)
    key = keys.registry_key("failed", queue)
    reader = RegistryReader(connection)
    if selector.kind == "filter":
        job_filter = selector.job_filter
        return RegistryWalk(
            reader, key, bound, lambda entries: matching_entries(connection, serializer, job_filter, entries)
        )
    if selector.kind == "group_id":
        group_id = selector.value
        return RegistryWalk(
            reader, key, bound, lambda entries: in_group(connection, entries, serializer, group_id)
        )
    if selector.kind != "all":  # never every job for a kind it does not know
        raise ValueError(f"unknown selector kind {selector.kind!r}")
    return RegistryWalk(reader, key, bound)
