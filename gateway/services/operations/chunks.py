"""What an operation walks and how one chunk is acted on.

A walk yields chunks of the jobs it selects, each with the position right after it. The
position is stored in the operation with the chunk's progress, by the same Lua call that acts on
the chunk (operation_chunk.lua), so a resumed walk starts exactly after the last chunk done.

- RegistryWalk: the failed registry in registry order, up to the last entry present when the
  operation started (jobs failing meanwhile land after it), optionally through a selection
  (a filter, a failure group) that reads the jobs of each chunk.
- IdsWalk: named ids, in the order given; its position is an index.
- SearchWalk: the failed registry through a search query, up to the same last entry; its
  position is the scan's cursor.

The runner drives Steps (steps.py): WalkSteps acts on a walk's chunks (one call to read, one to
act); for every failed job (the selector `all`, the one that reaches a million) steps_for gives
RegistrySteps (registry_steps.py), where Redis walks the registry itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.domain.outcome import Outcome
from gateway.services.domain.search_query import SearchQuery
from gateway.services.operations import store
from gateway.services.operations.model import ERRORS_KEPT, Selector
from gateway.services.operations.registry_steps import RegistrySteps
from gateway.services.operations.steps import (
    ENDED,
    Rewound,
    Step,
    Steps,
    act_args,
    chunk_keys,
    counted_errors,
    error_codes,
)
from gateway.services.reads.filtered import matching_entries
from gateway.services.reads.search import SearchScope, scan_search
from gateway.services.reads.search_cursor import decode_search_cursor
from gateway.services.redis import keys, scripts
from gateway.services.redis.registry import Entry, RegistryReader, decode_cursor, now_timestamp
from gateway.services.writes.groups import in_group

Select = Callable[[list[Entry]], list[Entry]]


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

    def chunks(self, position: str, size: Callable[[], int]) -> Iterator[Chunk]:
        if self._bound is None:
            return
        cursor = decode_cursor(position) if position else None
        while True:
            _, entries = self._reader.after(self._key, cursor, size())
            in_bound = [e for e in entries if e.position <= self._bound]
            if not in_bound:
                return
            selected = self._select(in_bound) if self._select is not None else in_bound
            yield Chunk(
                [e.member for e in selected], [e.job_id for e in selected], len(in_bound), in_bound[-1].cursor
            )
            cursor = (in_bound[-1].score, in_bound[-1].raw)


class IdsWalk:
    def __init__(self, job_ids: list[str]):
        self._ids = job_ids

    def chunks(self, position: str, size: Callable[[], int]) -> Iterator[Chunk]:
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

    def chunks(self, position: str, size: Callable[[], int]) -> Iterator[Chunk]:
        cursor = position or None
        while True:
            # The scan examines as many entries as lie up to the bound among its next `size()`.
            within = self._within(cursor, size())
            if not within:
                return
            scan = scan_search(
                self._connection, self._serializer, self._query, self._scope, cursor, within, within
            )
            found = next(scan)  # one chunk; the rest of this scan is never read
            if found.complete or found.cursor is None:
                return
            # Entries removed since _within was read let the scan reach past the bound.
            ids = [hit.job.job_id for hit in found.hits if self._in_bound(hit.cursor)]
            yield Chunk(list(ids), ids, found.scanned, found.cursor)
            cursor = found.cursor

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


@dataclass(frozen=True)
class ChunkDone:
    seconds: float  # the call's round trip (steps.py says why not Redis's own clock)
    codes: list[Outcome]


class ChunkAction:
    """One chunk's action and its progress in one Lua call (operation_chunk.lua). run() answers
    the per-job codes and the call's round trip, or None when the runner must stop: its
    lease was taken over, or the operation no longer runs (canceled). `position` is the one the
    operation recorded when the walk started; each chunk is acted on only while the operation's
    recorded position is still where the last chunk left it, else run() raises Rewound."""

    def __init__(
        self,
        connection: Redis,
        queue: str,
        action: str,
        selector: Selector,
        operation_id: str,
        token: str,
        clock: Callable[[], float] = time.perf_counter,
        only_origin: str = "",
        position: str = "",
    ):
        self._clock = clock
        self._position = position
        self._only_origin = only_origin
        self._queue = queue
        self._retry = action == "retry"
        self._script = connection.register_script(
            scripts.OPERATION_REQUEUE if self._retry else scripts.OPERATION_DELETE
        )
        self._keys = chunk_keys(queue, operation_id)
        self._token = token
        self._error_codes = error_codes(*counted_errors(action, selector.kind))
        # Beyond the ERRORS_SHOWN an operation lists: a limited reader's view leaves out the ids
        # it may not see from the counts too (operations/seen.py), which needs each error's id.
        self._errors_kept = ERRORS_KEPT

    def run(self, chunk: Chunk) -> ChunkDone | None:
        now = now_timestamp()
        inner = act_args(self._retry, now, self._queue, chunk.members, self._only_origin)
        first_id = len(inner) - len(chunk.members) + 1  # Lua counts from 1
        head = [
            self._token,
            store.LEASE_MS,
            chunk.position,
            chunk.examined,
            self._error_codes,
            first_id,
            self._errors_kept,
            self._position,
        ]
        started = self._clock()
        reply = self._script(keys=self._keys, args=[*head, *inner])
        seconds = self._clock() - started
        if reply == [b"rewound"]:
            raise Rewound
        if reply and isinstance(reply[0], bytes):
            return None
        self._position = chunk.position
        return ChunkDone(seconds, [Outcome(code) for code in reply])

    @property
    def position(self) -> str:
        """Where this walk's last chunk left the operation's recorded position."""
        return self._position


class WalkSteps:
    """A walk the gateway reads (ids, filter, group, search), each chunk acted on by ChunkAction."""

    def __init__(self, walk: Walk, act: ChunkAction, position: str) -> None:
        self._size = 1
        self._chunks = walk.chunks(position, lambda: self._size)
        self._act = act

    def step(self, size: int) -> Step | None:
        self._size = size
        chunk = next(self._chunks, None)
        if chunk is None:
            return ENDED
        done = self._act.run(chunk)
        if done is None:
            return None
        limited = [
            m for m, code in zip(chunk.members, done.codes, strict=True) if code == Outcome.RATE_LIMITED
        ]
        return Step(done.seconds, chunk.examined, len(chunk.members), limited, False)

    def close(self) -> None:
        """Each chunk's call is read before the next is sent: nothing is held between steps."""

    def walked(self) -> tuple[str, str]:
        return ("position", self._act.position)


def steps_for(
    connection: Redis,
    serializer: Any,
    state: dict[str, str],
    selector: Selector,
    operation_id: str,
    token: str,
    depth: int = 2,
) -> Steps:
    """The steps of a stored operation, from where its last recorded chunk ended; `depth` calls
    queued at a time for every failed job (RegistrySteps)."""
    queue, action, bound = state["queue"], state["action"], state["bound"]
    only_origin = state.get("only_origin", "")  # absent in operations of older gateways: any
    if selector.kind == "all":
        position = state.get("position", "")
        if position and " " not in position:
            # Stored by a gateway before operation_walk.lua: a cursor; the walk reads its own form.
            score, member = decode_cursor(position)
            connection.hset(store.operation_key(operation_id), "position", f"{score} {member.hex()}")
        return RegistrySteps(connection, queue, action, bound, operation_id, token, depth, only_origin)
    walk = walk_for(connection, serializer, queue, selector, bound)
    position = state["position"]
    act = ChunkAction(
        connection, queue, action, selector, operation_id, token, only_origin=only_origin, position=position
    )
    return WalkSteps(walk, act, position)
