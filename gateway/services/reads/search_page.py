"""A search request: where it looks (`search_scope`) and one bounded page of its matches
(`search_page`), both over the one walk in search.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.errors import InvalidParameter
from gateway.services.domain.models import JobInfo, SearchPage
from gateway.services.domain.search_match import matches, needs_meta
from gateway.services.domain.search_query import SearchQuery
from gateway.services.domain.validation import validate_job_id, validate_queue_name, validate_search_size
from gateway.services.reads.browse import STATES
from gateway.services.reads.locate import Place, fetch_located_job_at
from gateway.services.reads.queue_list import QueueLists, cursor_at
from gateway.services.reads.queues import queue_names
from gateway.services.reads.search import SearchScope, metas_of, scan_search
from gateway.services.reads.search_cursor import SEARCH_STATES, decode_search_cursor, encode_search_cursor
from gateway.services.redis import damaged
from gateway.services.redis.registry import decode_cursor, encode_cursor

DEFAULT_SCAN_LIMIT = 100_000


def search_scope(
    connection: Redis,
    query: SearchQuery,
    queue: str | None,
    state: str | None,
    may_access_queue: Callable[[str], bool],
    check_queue: Callable[[str], None],
    shown: Callable[[JobInfo], JobInfo] | None = None,
    restricted: bool = False,
) -> SearchScope:
    """The queues and states a search reads: the named queue, or every queue in RQ's queues set
    the key may access; narrowed to the `queue:` terms, which must all name the same queue. A
    queue named either way is checked alike (README "Roles"): InvalidParameter for an invalid
    name, Forbidden outside the key's patterns. The named state, or the queue and every registry."""
    if state is not None and state not in STATES:
        raise InvalidParameter(f"Invalid state {state[:40]!r}: use one of {', '.join(STATES)}")
    check_named_queues(query, queue, check_queue)
    named = set(query.values("queue"))
    if queue is not None:
        names = {queue}
    elif named:
        names = named
    else:
        names = set(queue_names(connection))
    if named:
        names &= named if len(named) == 1 else set()
    return SearchScope(
        queues=tuple(sorted(name for name in names if may_access_queue(name))),
        states=(state,) if state is not None else SEARCH_STATES,
        may_access_queue=may_access_queue,
        shown=shown,
        unknown_origins=not restricted,
    )


def check_named_queues(query: SearchQuery, queue: str | None, check_queue: Callable[[str], None]) -> None:
    """The queues a search names, by `queue` and by `queue:` terms, checked alike wherever a query
    runs (a search, an operation's search selector): InvalidParameter for an invalid name,
    Forbidden outside the key's patterns."""
    for name in ([queue] if queue is not None else []) + query.values("queue"):
        validate_queue_name(name)
        check_queue(name)  # the caller's service: Forbidden.queue, as every other check


def search_page(
    connection: Redis,
    serializer: Any,
    query: SearchQuery,
    scope: SearchScope,
    limit: int,
    after: str | None,
    scan_limit: int,
) -> SearchPage:
    """Up to `limit` matches after the cursor `after`, examining at most `scan_limit` entries.
    The next cursor resumes right after the last match returned when the page filled up, or
    after the last entry examined when the scan limit stopped it."""
    validate_search_size(limit)
    jobs: list[JobInfo] = []
    cursors: list[str] = []
    scanned = 0
    cursor = after
    for chunk in scan_search(connection, serializer, query, scope, after, scan_limit):
        for hit in chunk.hits:
            jobs.append(hit.job)
            cursors.append(hit.cursor)
            if len(jobs) == limit:
                return SearchPage(jobs, scanned + hit.scanned, False, hit.cursor, cursors)
        scanned += chunk.scanned
        cursor = chunk.cursor
        if chunk.complete:
            return SearchPage(jobs, scanned, True, None, cursors)
    return SearchPage(jobs, scanned, False, cursor, cursors)


def lookup_page(
    connection: Redis,
    serializer: Any,
    query: SearchQuery,
    scope: SearchScope,
    default_queue: str,
    limit: int,
    after: str | None = None,
) -> SearchPage:
    """An `id:` query: one lookup, not a scan. The job must be in the scope (its queue, and the
    queue or registry holding it), match the other terms and, given a cursor `after`, lie after
    it in scan order. Its cursor is the scan's right after it, so it ends this query and resumes
    a wider one after the job. `limit` is checked as a scan's is, though one job always fits."""
    validate_search_size(limit)
    job_id = query.values("id")[0]
    validate_job_id(job_id)
    start = decode_search_cursor(after) if after else None  # a tampered cursor is refused here too
    job, place = fetch_located_job_at(connection, job_id, serializer, default_queue, with_results=True)
    # The location shows the queue as answers print it; the scope holds names as rq:queues does.
    queue = _scope_queue(scope, job.location.queue) if job is not None and job.location else None
    if job is None or job.location is None or queue is None:
        return SearchPage([], 1, True, None)
    state = job.location.registry or ""
    if state not in scope.states or place is None:
        return SearchPage([], 1, True, None)
    if start is not None and not _lies_after(connection, queue, state, place, start):
        return SearchPage([], 1, True, None)
    listed = dataclasses.replace(job, location=None, dependency_ids=None, dependent_ids=None)
    seen = scope.shown(listed) if scope.shown is not None else listed
    meta = metas_of(connection, [listed], serializer)[0] if needs_meta(query) else None
    if not (scope.sees(listed) and matches(query, seen, meta)):
        return SearchPage([], 1, True, None)
    inner = _inner(connection, queue, job_id, place)
    return SearchPage([listed], 1, True, None, [encode_search_cursor(queue, state, inner)])


def _scope_queue(scope: SearchScope, shown: str) -> str | None:
    """The scope's name of the queue a location shows (damaged.shown_name), None outside it."""
    return next((name for name in scope.queues if damaged.shown_name(name) == shown), None)


def _inner(connection: Redis, queue: str, job_id: str, place: Place) -> str:
    """The job's source's cursor right after it, as the scan's there."""
    if isinstance(place, int):
        return cursor_at(connection, queue, job_id.encode(), place)
    assert place is not None
    return encode_cursor(place[1], place[0])


def _lies_after(
    connection: Redis, queue: str, state: str, place: Place, start: tuple[str, str, str | None]
) -> bool:
    """Whether a job at `place` in (queue, state) comes after the scan cursor `start`: by source
    as the scan reads them, then within the source (an inner cursor "" is that source's end)."""
    here, there = (queue, SEARCH_STATES.index(state)), (start[0], SEARCH_STATES.index(start[1]))
    inner = start[2]
    if here != there or inner is None or inner == "":
        return here > there or (here == there and inner is None)
    if isinstance(place, int):  # where the cursor's next page of the queue list would start
        return place >= QueueLists(connection).page(queue, 0, inner, "asc").start
    assert place is not None
    score, member = decode_cursor(inner)
    return (float(place[1]), place[0]) > (float(score), member)
