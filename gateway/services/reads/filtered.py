"""A filtered view of a failed registry, walked in registry order without writing anything.

Date criteria are checked inside Redis: a read-only script walks live entries from a cursor and
compares each job's `ended_at` (RQ's fixed-width format, compared byte by byte), so only matching
ids cross the network. The other criteria read the job's function and traceback: those alone
are read, a chunk per Lua call (redis/failure_facts.py), the next chunk while this one is checked
in Python, and only the matches are fetched whole, by the caller that shows them. A rare match
costs a scan of a few fields, not a decoding of every job. Memory stays bounded by a chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from redis import Redis

from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import JobInfo, JobPage
from gateway.services.reads.read_ahead import read_ahead
from gateway.services.redis import keys, scripts
from gateway.services.redis.failure_facts import FailureFacts, decode_facts, read_cause_fields, read_facts
from gateway.services.redis.fetch import fetch_jobs
from gateway.services.redis.registry import Entry, RegistryReader, entries_of, now_timestamp, up_to

# Entries one script call examines at most: keeps each call a few milliseconds inside Redis.
SCAN_BUDGET = 1000
CHUNK = 500


class FilteredView:
    """Matching live entries of one failed registry, in registry order."""

    def __init__(
        self,
        connection: Redis,
        queue_name: str,
        job_filter: FailedJobFilter,
        serializer: Any,
        only_origin: str | None = None,
    ) -> None:
        """`only_origin`: for a queue-limited key, criteria that read a job (function, traceback)
        match only jobs whose origin is this queue, never one whose data the key may not read."""
        self._connection = connection
        self._only_origin = only_origin
        self.queue_name = queue_name
        self._filter = job_filter
        self._serializer = serializer
        self._key = keys.registry_key("failed", queue_name)
        self._reader = RegistryReader(connection)
        self._scan = connection.register_script(scripts.FILTER_AFTER)

    def _candidates(
        self, cursor: tuple[str, bytes] | None, limit: int
    ) -> tuple[int, list[Entry], Entry | None, bool]:
        """(live total, entries passing the date criteria, last entry examined, reached the end)."""
        if not self._filter.has_dates:
            total, entries = self._reader.after(self._key, cursor, limit)
            return total, entries, entries[-1] if entries else None, len(entries) < limit
        after, before = self._filter.date_bounds()
        args: list[Any] = [now_timestamp(), limit, SCAN_BUDGET, keys.JOB_PREFIX, after, before]
        if cursor is not None:
            args.extend(cursor)
        total, flat, last, done = self._scan(keys=[self._key], args=args)
        entries = entries_of(flat, self._key)
        last_entry = entries_of(last, self._key)[0] if last else None
        return int(total), entries, last_entry, bool(done)

    def walk(
        self,
        cursor: tuple[str, bytes] | None = None,
        bound: tuple[float, bytes] | None = None,
        chunk: int = CHUNK,
    ) -> Iterator[tuple[int, list[Entry]]]:
        """(live total, matching entries) a chunk at a time, strictly after `cursor` and up to
        `bound` (inclusive). Yields nothing-matching chunks too, so callers can stop early."""
        if not self._filter.needs_job:
            for total, entries, _ in self._reads(cursor, bound, chunk):
                yield total, entries
            return
        for total, entries, fields in read_ahead(self._reads(cursor, bound, chunk), "filtered-walk"):
            facts = decode_facts(fields, self._serializer)
            met = [
                entry
                for entry, fact in zip(entries, facts, strict=True)
                if _meets(self._filter, fact, self._only_origin)
            ]
            yield total, met

    def _reads(
        self, cursor: tuple[str, bytes] | None, bound: tuple[float, bytes] | None, chunk: int
    ) -> Iterator[tuple[int, list[Entry], list[Any]]]:
        """(live total, entries passing the date criteria, their jobs' cause fields when the
        other criteria need them) a chunk at a time."""
        while True:
            total, entries, last, done = self._candidates(cursor, chunk)
            if bound is not None:
                entries = up_to(entries, bound)
                done = done or last is None or last.position >= bound
            members = [e.member for e in entries] if self._filter.needs_job else []
            yield total, entries, read_cause_fields(self._connection, members)
            if done or last is None:
                return
            cursor = (last.score, last.raw)

    def first(self, count: int, cursor: tuple[str, bytes] | None = None) -> list[Entry]:
        """Up to `count` matches after `cursor`."""
        found: list[Entry] = []
        if count <= 0:
            return found
        # Python-side criteria are checked a whole chunk per call, however small the page.
        chunk = CHUNK if self._filter.needs_job else min(count, CHUNK)
        for _, matches in self.walk(cursor, chunk=chunk):
            found.extend(matches)
            if len(found) >= count:
                return found[:count]
        return found

    def count(self) -> int:
        return sum(len(matches) for _, matches in self.walk())

    def jobs_of(self, matches: list[Entry], with_results: bool) -> list[JobInfo]:
        """The jobs of matches, whole, in one round trip."""
        ids = [entry.job_ref for entry in matches]
        return fetch_jobs(
            self._connection, ids, self._serializer, self.queue_name, True, with_results=with_results
        )

    def last_bound(self) -> tuple[int, tuple[float, bytes] | None]:
        """(live total, the (score, member) of the last live entry): a bulk walk stops there."""
        total, last = self._reader.last(self._key)
        return total, last.position if last else None


def filtered_page(
    view: FilteredView,
    first: int,
    cursor: tuple[str, bytes] | None,
    with_results: bool,
    with_total: bool,
) -> JobPage:
    """A cursor page of matching jobs. The cursor is the last *matching* entry's (score, id), so
    the next page resumes right after it. `total` counts every match, which costs a walk of the
    whole registry: it is -1 when the caller did not ask for it."""
    matches = view.first(first + 1, cursor)
    page = matches[:first]
    cursors = [entry.cursor for entry in page]
    return JobPage(
        jobs=view.jobs_of(page, with_results),
        total=view.count() if with_total else -1,
        end_cursor=cursors[-1] if cursors else None,
        has_next_page=len(matches) > first,
        cursors=cursors,
    )


def matching_entries(
    connection: Redis, serializer: Any, job_filter: FailedJobFilter, entries: list[Entry]
) -> list[Entry]:
    """The entries whose job meets every criterion of the filter, dates included, in one call."""
    facts = read_facts(connection, [e.member for e in entries], serializer)
    return [entry for entry, fact in zip(entries, facts, strict=True) if _meets(job_filter, fact, None)]


def _meets(job_filter: FailedJobFilter, fact: FailureFacts, only_origin: str | None) -> bool:
    """Every criterion of the filter, on what failure_facts read of a job (a view's walk checked
    the dates in Redis already; they hold again here), and the job is `only_origin`'s if set."""
    if only_origin is not None and not fact.of_queue(only_origin):
        return False
    return job_filter.matches_failure(fact.func_name, fact.traceback, fact.ended_at)
