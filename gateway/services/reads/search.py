"""Search: scan a set of queues and their registries for jobs matching a query, a chunk at a time,
bounded and resumable. Reads only.

The scan visits queues in name order and, in each, the queue itself first and then every
registry (STATES order); then, once, RQ 3's jobs waiting for a rate-limit slot, which sit in no
queue or registry (search_limited.py). Each source is read in its own stable order, through Browser: a
registry by (score, member), the queue list from the ids around the last one seen, which finds
its place again when that job left the queue (queue_list.py says how). A cursor
is (queue, state, that source's cursor): it resumes exactly after the last entry examined, so a
job that stays where it is is seen exactly once however the scan is split into requests, and
jobs retried or deleted between requests shift nothing. A job that moves meanwhile is like a key
under Redis's SCAN: seen in its old place or its new one, or in neither when its new place is
behind the scan (pushed to the front of the queue being read). The queue comes first because a retry
moves a job from a registry to the queue: once the queue is behind the scan, a retried job is
not met again.

`scan_search` is the one walk: the search page (`search_page`) and a tracked operation with a
search selector both consume it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.domain.models import JobInfo
from gateway.services.domain.search_match import Test, needs_exception, needs_meta, predicate
from gateway.services.domain.search_query import FREE, SearchQuery
from gateway.services.reads.browse import Browser
from gateway.services.reads.read_ahead import read_ahead
from gateway.services.reads.search_cursor import SEARCH_STATES, decode_search_cursor, encode_search_cursor
from gateway.services.reads.search_limited import RATE_LIMITED, counted_entries, limited_refs
from gateway.services.redis import damaged, keys
from gateway.services.redis.decode import decode_meta
from gateway.services.redis.registry import RegistryReader

# Entries one Redis round trip reads: a pipeline of this many job hashes stays a few
# milliseconds inside Redis and bounds the gateway's memory by a chunk.
CHUNK = 500
# Sources one pipeline checks for existence ahead of the scan (_present).
LOOKAHEAD = 500
# A source's inner cursor once it was read to its end: the scan resumes at the next source.
_END = ""


def _everything(_queue: str) -> bool:
    return True


@dataclass(frozen=True)
class SearchScope:
    """Where a scan looks, and as whom. `queues` in scan order (sorted), `states` a subset of
    SEARCH_STATES in its order. `shown` gives a job as the caller sees it (--hide-payloads):
    terms are matched against that."""

    queues: tuple[str, ...]
    states: tuple[str, ...] = SEARCH_STATES
    may_access_queue: Callable[[str], bool] = _everything
    shown: Callable[[JobInfo], JobInfo] | None = None
    unknown_origins: bool = True  # sees jobs of no readable origin: keys without patterns only

    def sees(self, job: JobInfo) -> bool:
        """Whether the caller may see the job, by its queue: its origin, when it names one."""
        return self.may_access_queue(job.origin) if job.origin_known else self.unknown_origins


@dataclass(frozen=True)
class SearchHit:
    job: JobInfo
    cursor: str  # resumes the scan right after this job
    scanned: int  # entries of its chunk examined up to and including this one


@dataclass(frozen=True)
class SearchChunk:
    """One step of a scan: the matches among `scanned` entries, and the cursor after the last of
    them (None once `complete`: every source in scope was read to its end)."""

    hits: list[SearchHit]
    scanned: int
    cursor: str | None
    complete: bool


def scan_search(
    connection: Redis,
    serializer: Any,
    query: SearchQuery,
    scope: SearchScope,
    after: str | None = None,
    scan_limit: int | None = None,
    chunk: int = CHUNK,
) -> Iterator[SearchChunk]:
    """Chunks of matches after the cursor `after`, in scan order, until `scan_limit` entries were
    examined (None: no limit) or the scope is exhausted (the last chunk says `complete`). Each
    chunk is one registry read, script calls for the fields the terms need (and each job's newest
    traceback when they need it: fetch.py bounds the jobs a call), one more pipeline for `meta.`
    terms and one for the matches whole: nothing is held between chunks but the cursor. The next
    chunk is read from Redis while this one is matched (read_ahead.py). InvalidParameter for a
    cursor not ours."""
    browser = Browser(connection, RegistryReader(connection), serializer)
    test = predicate(query)
    probes = _probes(connection, browser, RegistryReader(connection), query, scope, after, scan_limit, chunk)
    for probe in read_ahead(probes, "search"):
        if probe.refs is None:  # out of budget, or the end of the scope
            yield SearchChunk([], 0, probe.cursor, probe.cursor is None)
            return
        probe_jobs = probe.decode()
        metas = metas_of(connection, probe_jobs, serializer) if needs_meta(query) else None
        matched = [
            index
            for index, job in enumerate(probe_jobs)
            if _visible(job, scope, test, metas[index] if metas is not None else None)
            and (probe.state != RATE_LIMITED or job.origin in scope.queues)
        ]
        refs, cursors = probe.refs, probe.cursors
        jobs = browser.fetch([refs[i] for i in matched], probe.state, probe.queue, True) if matched else []
        counted = counted_entries(
            probe.state, probe_jobs, lambda job: scope.sees(job) and job.origin in scope.queues
        )
        hits = [
            SearchHit(job, encode_search_cursor(probe.queue, probe.state, cursors[i]), sum(counted[: i + 1]))
            for i, job in zip(matched, jobs, strict=True)
        ]
        yield SearchChunk(hits, sum(counted), probe.cursor, False)


@dataclass(frozen=True)
class _Probe:
    """One chunk read: its references, their cursors and the fields the terms need, read and
    decoded when `decode` is called (by the consumer, while the next chunk is read); the cursor
    after it. Without `refs`: the scan stops here, resumable at `cursor` (None: complete)."""

    queue: str = ""
    state: str = ""
    refs: list[str | bytes] | None = None
    cursors: Any = ()
    decode: Callable[[], list[JobInfo]] = list
    cursor: str | None = None


def _probes(
    connection: Redis,
    browser: Browser,
    reader: RegistryReader,
    query: SearchQuery,
    scope: SearchScope,
    after: str | None,
    scan_limit: int | None,
    chunk: int,
) -> Iterator[_Probe]:
    """The reads of scan_search, a chunk at a time, within the budget of `scan_limit` entries."""
    with_results = needs_exception(query)
    fields = fields_for(query)
    budget = scan_limit
    for queue, state, inner in _present(connection, _sources(scope, after)):
        while True:
            size = chunk if budget is None else min(chunk, budget)
            if state == RATE_LIMITED:
                in_scope = scope.queues.__contains__  # as the matches and `scanned` take them
                refs, cursors, more = limited_refs(connection, reader, max(size, 0), inner, in_scope)
            else:
                _, refs, cursors, more = browser.refs(queue, state, max(size, 0), inner)
            if size <= 0:
                if more:  # out of budget with entries left: stop here, resumable
                    yield _Probe(cursor=encode_search_cursor(queue, state, inner))
                    return
                break  # this source has nothing left: a scan ending at the limit is complete
            # Only the fields the terms read; the matches are fetched whole by the consumer.
            decode = browser.read(refs, state, queue, with_results, fields)
            if budget is not None:
                budget -= len(refs)
            inner = cursors[-1] if cursors else inner
            cursor = encode_search_cursor(queue, state, inner if more else _END)
            yield _Probe(queue, state, refs, cursors, decode, cursor)
            if not more:
                break
    yield _Probe()


def fields_for(query: SearchQuery) -> tuple[str, ...]:
    """The job hash fields (RQ's names) the query's terms read; status and origin always, for
    the access check and the listing's defaults."""
    fields = ["status", "origin"]
    terms = {term.field for term in query.terms}
    if terms & {"func", "args", "kwargs", FREE}:  # free text under hidden payloads: the bare call
        fields.append("data")
    if FREE in terms:
        fields.append("description")
    if needs_exception(query):
        fields.append("exc_info")  # RQ < 2 kept the traceback here; later ones in the results stream
    return tuple(fields)


def _visible(job: JobInfo, scope: SearchScope, test: Test, meta: dict[str, Any] | None) -> bool:
    # A job whose origin is another queue than the one it sits in (damaged or hand-written data)
    # is shown only to a key that may see that queue too.
    if not scope.sees(job):
        return False
    return test(scope.shown(job) if scope.shown is not None else job, meta)


def _sources(scope: SearchScope, after: str | None) -> Iterator[tuple[str, str, str | None]]:
    """(queue, state, inner cursor) of each source left to read, from the cursor on."""
    start = decode_search_cursor(after) if after else None
    past_queues = start is not None and start[1] == RATE_LIMITED
    for queue in () if past_queues else scope.queues:
        for state in scope.states:
            if state == RATE_LIMITED:
                continue
            if start is None:
                yield queue, state, None
                continue
            position = (queue, SEARCH_STATES.index(state))
            begun = (start[0], SEARCH_STATES.index(start[1]))
            if position == begun and start[2] != _END:
                yield queue, state, start[2]
            elif position > begun:
                yield queue, state, None
    if RATE_LIMITED in scope.states and scope.queues:  # after every queue
        if start is None or start[1] != RATE_LIMITED:
            yield "", RATE_LIMITED, None
        elif start[2] != _END:
            yield "", RATE_LIMITED, start[2]


def _present(
    connection: Redis, sources: Iterator[tuple[str, str, str | None]]
) -> Iterator[tuple[str, str, str | None]]:
    """The sources whose key exists, checked by one pipeline of EXISTS per LOOKAHEAD of them: an
    absent key is an empty queue or registry (RQ keeps a queue's name after its last job), so a
    scan over thousands of them costs a few round trips, not a script call each. A source
    filled after its check is like a job that moved into a place the scan has passed."""
    batch: list[tuple[str, str, str | None]] = []
    for source in sources:
        batch.append(source)
        if len(batch) == LOOKAHEAD:
            yield from _existing(connection, batch)
            batch = []
    yield from _existing(connection, batch)


def _existing(
    connection: Redis, batch: list[tuple[str, str, str | None]]
) -> list[tuple[str, str, str | None]]:
    if not batch:
        return []
    with connection.pipeline(transaction=False) as pipe:
        for queue, state, _ in batch:
            if state == RATE_LIMITED:
                pipe.exists(keys.RATE_LIMIT_KEYS)
            else:
                key = keys.queue_key(queue) if state == "queued" else keys.registry_key(state, queue)
                pipe.exists(damaged.key_bytes(key))  # a queue name from rq:queues may not be UTF-8
        found = pipe.execute()
    return [source for source, exists in zip(batch, found, strict=True) if exists]


def metas_of(connection: Redis, jobs: list[JobInfo], serializer: Any) -> list[dict[str, Any] | None]:
    with connection.pipeline(transaction=False) as pipe:
        for job in jobs:
            pipe.hget(keys.job_key(job.job_id), "meta")
        replies = damaged.execute(pipe)
    return [decode_meta(raw, serializer) for raw in replies]
