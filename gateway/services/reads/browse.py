"""Cursor pages of any registry of a queue, or of the queue itself, in either order. Reads only.

Registry cursors are the last entry's (score, member), so a page resumes exactly after it even when
entries before it were retried or deleted meanwhile. The queue is a list, not a sorted set: its
cursor is a window of the job ids around the last one seen, found again by value (queue_list.py
says how)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis

from gateway.errors import InvalidParameter
from gateway.services.domain.lazy_cursors import LazyCursors
from gateway.services.domain.models import JobInfo, JobPage
from gateway.services.domain.validation import validate_page_size
from gateway.services.reads.queue_list import QueueLists
from gateway.services.redis import damaged, keys
from gateway.services.redis.fetch import id_of, read_jobs
from gateway.services.redis.registry import (
    Entry,
    RegistryReader,
    decode_cursor,
    member_ref,
)

STATES = ("queued", "started", "failed", "finished", "deferred", "scheduled", "canceled")
ORDERS = ("asc", "desc")
# Scored by run, creation or cancel time rather than expiry: every entry is live (as in stats).
_NOT_EXPIRING = ("deferred", "scheduled", "canceled")


def check_page_args(state: str, order: str, first: int) -> None:
    if state not in STATES:
        raise InvalidParameter(f"Invalid state {state[:40]!r}: use one of {', '.join(STATES)}")
    if order not in ORDERS:
        raise InvalidParameter(f"Invalid order {order[:40]!r}: use asc or desc")
    validate_page_size(first)


class Browser:
    """Pages of one queue's jobs in a given state."""

    def __init__(self, connection: Redis, reader: RegistryReader, serializer: Any):
        self._connection = connection
        self._reader = reader
        self._serializer = serializer
        self._lists = QueueLists(connection)

    def page(
        self,
        queue_name: str,
        state: str,
        first: int,
        after: str | None = None,
        order: str = "asc",
        with_results: bool = True,
    ) -> JobPage:
        """Up to `first` jobs after the cursor `after`; arguments already checked."""
        total, refs, lazy, more = self.refs(queue_name, state, first, after, order)
        jobs = self.fetch(refs, state, queue_name, with_results)
        cursors = list(lazy)
        return JobPage(
            jobs=jobs,
            total=total,
            end_cursor=cursors[-1] if cursors else None,
            has_next_page=more,
            cursors=cursors,
        )

    def refs(
        self, queue_name: str, state: str, first: int, after: str | None = None, order: str = "asc"
    ) -> tuple[int, list[str | bytes], Sequence[str], bool]:
        """A page without its jobs: (total, up to `first` job references, the cursor after each,
        whether more follow). For readers that fetch only part of each job (search): a cursor is
        encoded only when asked for, since a scan needs few of them."""
        if state == "queued":
            page = self._lists.page(queue_name, first, after, order)
            return page.total, [member_ref(member) for member in page.members], page.cursors, page.more
        total, entries = self._registry(queue_name, state, first + 1, after, order)
        refs = [entry.job_ref for entry in entries]
        cursors = LazyCursors(entries[:first], _entry_cursor)
        return total, refs[:first], cursors, len(refs) > first

    def _registry(
        self, queue_name: str, state: str, limit: int, after: str | None, order: str
    ) -> tuple[int, list[Entry]]:
        cursor = decode_cursor(after) if after else None
        seek = self._reader.after if order == "asc" else self._reader.before
        return seek(keys.registry_key(state, queue_name), cursor, limit, expiring=state not in _NOT_EXPIRING)

    def fetch(
        self,
        refs: list[str | bytes],
        state: str,
        queue: str,
        with_results: bool,
        fields: tuple[str, ...] | None = None,
    ) -> list[JobInfo]:
        """The jobs of a page's references, as the page shows them (`fields`: see fetch_jobs). A job
        without its own origin shows the queue's name as an answer may print it (damaged.py)."""
        return self.read(refs, state, queue, with_results, fields)()

    def read(
        self,
        refs: list[str | bytes],
        state: str,
        queue: str,
        with_results: bool,
        fields: tuple[str, ...] | None = None,
    ) -> Callable[[], list[JobInfo]]:
        """fetch in two steps (fetch.read_jobs): the reads now, the decoding when called."""
        queue = damaged.shown_name(queue)
        # Unchanged from the failed list: orphans show as failed entries of this queue.
        in_failed = state == "failed"
        decode = read_jobs(self._connection, refs, self._serializer, queue, in_failed, with_results, fields)
        if in_failed:
            return decode
        # An entry whose job hash is gone still shows, so a page always matches its total.
        return lambda: [
            job or JobInfo(job_id=id_of(ref), status=state, origin=queue, origin_known=False)
            for ref, job in zip(refs, decode(), strict=True)
        ]


def _entry_cursor(entry: Entry) -> str:
    return entry.cursor
