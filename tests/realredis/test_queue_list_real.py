"""Pages of a queue list (services/reads/queue_list.py) on a real redis-server, while the queue
changes between pages as it does in production: workers pop the head, producers push at the
tail (and `at_front` at the head), cancel and delete remove any id (LREM). Every job that stayed
in the queue throughout is met exactly once, in queue order, by the search scan and by queue
pages in both orders."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.services import JobService
from gateway.services.redis import keys

QUEUE = "qc"
# Fewer removals out of the middle of the queue between two pages than the ids a cursor holds
# (README "Search"): the cursor then always finds its place again.
REMOVALS_PER_GAP = 4

_op = st.one_of(
    st.tuples(st.just("pop"), st.integers(1, 6)),
    st.tuples(st.just("push"), st.integers(1, 4)),
    st.tuples(st.just("front"), st.integers(1, 2)),
    st.tuples(st.just("remove"), st.floats(0, 1, exclude_max=True)),
)
_gap = st.lists(_op, max_size=6).filter(lambda ops: sum(op == "remove" for op, _ in ops) <= REMOVALS_PER_GAP)


class _Queue:
    """The list under test, and which of its first jobs were never taken out of it."""

    def __init__(self, r, size: int) -> None:
        self.r, self.key, self.made = r, keys.queue_key(QUEUE), 0
        r.delete(self.key)
        r.sadd(keys.QUEUES_SET, self.key)  # a known queue, even once empty
        self.initial = self._new(size)
        if self.initial:
            r.rpush(self.key, *self.initial)
        self.gone: set[str] = set()

    def _new(self, count: int) -> list[str]:
        self.made += count
        return [f"j{n:04d}" for n in range(self.made - count, self.made)]

    def apply(self, op: str, arg) -> None:
        if op == "pop":
            for _ in range(arg):
                popped = self.r.lpop(self.key)
                if popped is not None:
                    self.gone.add(popped.decode())
        elif op == "push":
            self.r.rpush(self.key, *self._new(arg))
        elif op == "front":
            for job_id in self._new(arg):
                self.r.lpush(self.key, job_id)
        else:
            current = [m.decode() for m in self.r.lrange(self.key, 0, -1)]
            if current:
                job_id = current[int(arg * len(current))]
                self.r.lrem(self.key, 0, job_id)
                self.gone.add(job_id)

    def stayed(self) -> list[str]:
        return [job_id for job_id in self.initial if job_id not in self.gone]


def _page_through(read, queue: _Queue, gaps) -> list[str]:
    """Every page `read(cursor)` answers (its ids, the next cursor or None at the end), with
    the queue changed by the next gap of `gaps` between two pages."""
    found: list[str] = []
    cursor = None
    for step in range(400):
        ids, cursor = read(cursor)
        found += ids
        if cursor is None:
            return found
        for op, arg in gaps[step] if step < len(gaps) else ():
            queue.apply(op, arg)
    pytest.fail("the pages never ended")


def _check(found: list[str], stayed: list[str]) -> None:
    assert len(found) == len(set(found)), "a job came twice"
    assert [job_id for job_id in found if job_id in set(stayed)] == stayed, "a job was skipped"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(0, 40),
    limit=st.integers(1, 7),
    scan_limit=st.integers(1, 9),
    gaps=st.lists(_gap, max_size=12),
)
def test_search_pages_meet_every_job_that_stayed_exactly_once(r, size, limit, scan_limit, gaps) -> None:
    queue = _Queue(r, size)
    service = JobService(r)
    service.search_scan_limit = scan_limit

    def read(cursor: str | None) -> tuple[list[str], str | None]:
        page = service.search("", queue=QUEUE, state="queued", limit=limit, cursor=cursor)
        return [job.job_id for job in page.jobs], None if page.complete else page.next_cursor

    _check(_page_through(read, queue, gaps), queue.stayed())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(0, 40),
    limit=st.integers(1, 7),
    order=st.sampled_from(["asc", "desc"]),
    gaps=st.lists(_gap, max_size=12),
)
def test_queue_pages_meet_every_job_that_stayed_exactly_once_in_both_orders(
    r, size, limit, order, gaps
) -> None:
    queue = _Queue(r, size)
    service = JobService(r)

    def read(cursor: str | None) -> tuple[list[str], str | None]:
        page = service.queue_jobs(QUEUE, "queued", limit, cursor, order)
        return [job.job_id for job in page.jobs], page.end_cursor if page.has_next_page else None

    found = _page_through(read, queue, gaps)
    stayed = queue.stayed()
    _check(found, stayed if order == "asc" else stayed[::-1])
