"""Cursor pages of any registry and of the queue (services/reads/browse.py) on fakeredis: order, live
entries only, stable cursors, input checks, and no writes."""

from __future__ import annotations

import pickle
import random
import time
import zlib
from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import StartedJobRegistry

from gateway.demo import jobs
from gateway.errors import InvalidParameter
from gateway.services.reads.browse import STATES


@pytest.fixture
def now() -> int:
    """Read per test: a module-level time would be stale by the time a long suite gets here."""
    return int(time.time())


def walk(service, state, order="asc", size=2, queue="default"):
    """Every job id of a state, page by page, and the total of the first page."""
    page = service.queue_jobs(queue, state, size, None, order)
    total, ids = page.total, [job.job_id for job in page.jobs]
    while page.has_next_page:
        page = service.queue_jobs(queue, state, size, page.end_cursor, order)
        ids += [job.job_id for job in page.jobs]
    return total, ids


def expected_order(conn, key, live):
    """Registry order as Redis sorts it (score, then member bytes), live entries only."""
    entries = [(score, member.decode()) for member, score in conn.zrange(key, 0, -1, withscores=True)]
    return [member for score, member in sorted(entries) if live(score)]


@pytest.mark.parametrize("seed", range(12))
def test_seeks_match_redis_order_both_ways_around_negative_expired_and_tied_scores(conn, service, seed, now):
    """The Lua seeks against a plain Python model, over random registries mixing never-expiring
    (-1), expired ([0, now]) and live scores, with ties, for every page size."""
    rng = random.Random(seed)
    key = "rq:finished:default"
    pool = [-1, -1, 0, now - 50, now - 50, now + 1000, now + 1000, now + 2000, float("inf")]
    members = {f"j{rng.randrange(10_000):05d}": rng.choice(pool) for _ in range(rng.randrange(0, 25))}
    if members:
        conn.zadd(key, members)
    live = expected_order(conn, key, lambda score: score < 0 or score > now)
    for size in (1, 2, 3, 7, 50):
        assert walk(service, "finished", "asc", size) == (len(live), live)
        assert walk(service, "finished", "desc", size) == (len(live), live[::-1])


def test_time_scored_registries_count_every_entry_as_live(conn, service, now):
    """Scheduled, deferred and canceled are scored by time, not expiry: past scores still show."""
    for state in ("scheduled", "deferred", "canceled"):
        conn.zadd(f"rq:{state}:default", {"past": now - 1000, "future": now + 1000})
        assert walk(service, state) == (2, ["past", "future"])
        assert walk(service, state, "desc") == (2, ["future", "past"])


def test_started_entries_are_job_and_execution_keys(conn, service, factory, now):
    job_id = factory.queued()
    key = StartedJobRegistry("default", connection=conn).key
    conn.zadd(key, {f"{job_id}:exec1": now + 1000, "gone:exec2": now + 2000, "old:exec3": now - 5})
    page = service.queue_jobs("default", "started", 1)
    assert [job.job_id for job in page.jobs] == [job_id]
    assert page.total == 2
    rest = service.queue_jobs("default", "started", 10, page.end_cursor)
    # An entry whose job hash is gone still shows, so pages always add up to the total.
    assert [(job.job_id, job.status) for job in rest.jobs] == [("gone", "started")]


def test_every_state_lists_what_the_registry_holds(conn, service, factory):
    failed = factory.failed(2)
    finished = factory.finished()
    queue = Queue("default", connection=conn)
    queued = [queue.enqueue(jobs.add, i, i).id for i in range(3)]
    scheduled = queue.enqueue_in(timedelta(hours=1), jobs.add, 1, 2).id
    deferred = queue.enqueue(jobs.add, 3, 4, depends_on=queued[0]).id
    canceled = queue.enqueue(jobs.add, 5, 6)
    canceled.cancel()
    assert walk(service, "queued")[1] == queued
    assert sorted(walk(service, "failed")[1]) == sorted(failed)
    assert walk(service, "finished")[1] == [finished]
    assert walk(service, "scheduled")[1] == [scheduled]
    assert walk(service, "deferred")[1] == [deferred]
    assert walk(service, "canceled")[1] == [canceled.id]
    assert walk(service, "started")[1] == []
    statuses = {state: {j.status for j in service.queue_jobs("default", state, 10).jobs} for state in STATES}
    assert statuses["scheduled"] == {"scheduled"} and statuses["canceled"] == {"canceled"}
    assert statuses["deferred"] == {"deferred"} and statuses["queued"] == {"queued"}


def test_queue_cursor_survives_workers_taking_jobs_and_pushes_at_either_end(conn, service):
    queue = Queue("default", connection=conn)
    ids = [queue.enqueue(jobs.add, i, i).id for i in range(6)]
    first = service.queue_jobs("default", "queued", 3)
    assert [j.job_id for j in first.jobs] == ids[:3]
    conn.lpop(queue.key)  # a worker takes the head job
    conn.lpop(queue.key)
    front = queue.enqueue(jobs.add, 9, 9, at_front=True).id
    back = queue.enqueue(jobs.add, 8, 8).id
    second = service.queue_jobs("default", "queued", 10, first.end_cursor)
    assert [j.job_id for j in second.jobs] == [*ids[3:], back]
    assert front not in [j.job_id for j in second.jobs]

    newest = service.queue_jobs("default", "queued", 2, None, "desc")
    assert [j.job_id for j in newest.jobs] == [back, ids[5]]
    conn.lpop(queue.key)
    older = service.queue_jobs("default", "queued", 10, newest.end_cursor, "desc")
    assert [j.job_id for j in older.jobs] == [ids[4], ids[3], ids[2]]


def test_queue_cursor_of_a_job_taken_by_a_worker_restarts_at_the_head_or_ends(conn, service):
    queue = Queue("default", connection=conn)
    ids = [queue.enqueue(jobs.add, i, i).id for i in range(4)]
    first = service.queue_jobs("default", "queued", 2)
    newest = service.queue_jobs("default", "queued", 1, None, "desc")
    for _ in range(4):
        conn.lpop(queue.key)  # the workers drained the queue past both cursors
    later = queue.enqueue(jobs.add, 7, 7).id
    # Every job ahead of the cursor's job left with it: the head is the next unseen job.
    assert [j.job_id for j in service.queue_jobs("default", "queued", 10, first.end_cursor).jobs] == [later]
    # Newest first, everything older than the cursor's job is gone: the walk is over.
    assert service.queue_jobs("default", "queued", 10, newest.end_cursor, "desc").jobs == []
    assert ids


def test_total_and_has_next_page(service, factory):
    factory.failed(3)
    page = service.queue_jobs("default", "failed", 3)
    assert (page.total, len(page.jobs), page.has_next_page) == (3, 3, False)
    page = service.queue_jobs("default", "failed", 2)
    assert (page.total, len(page.jobs), page.has_next_page) == (3, 2, True)
    # first=0 asks for the total alone: no next page, since there is no cursor to follow.
    empty = service.queue_jobs("default", "failed", 0)
    assert (empty.total, empty.jobs, empty.end_cursor, empty.has_next_page) == (3, [], None, False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("default", "running", 10), "Invalid state 'running'"),
        (("default", "failed", 10, None, "up"), "Invalid order 'up'"),
        (("default", "failed", 1001), "first must be between 0 and 1000"),
        (("default", "failed", -1), "first must be between 0 and 1000"),
        (("default", "failed", 10, "not-a-cursor"), "Invalid cursor"),
        (("bad\nqueue", "failed", 10), "Invalid queue name"),
    ],
)
def test_bad_input(service, args, message):
    with pytest.raises(InvalidParameter, match=message):
        service.queue_jobs(*args)


def test_cursors_of_one_kind_are_refused_by_the_other(conn, service, factory):
    factory.failed(2)
    Queue("default", connection=conn).enqueue(jobs.add, 1, 1)
    registry_cursor = service.queue_jobs("default", "failed", 1).end_cursor
    queue_cursor = service.queue_jobs("default", "queued", 1).end_cursor
    with pytest.raises(InvalidParameter, match="Invalid cursor"):
        service.queue_jobs("default", "queued", 1, registry_cursor)
    with pytest.raises(InvalidParameter, match="Invalid cursor"):
        service.queue_jobs("default", "failed", 1, queue_cursor)


def test_pages_are_read_only_and_two_round_trips(conn, service, factory, round_trips, now):
    factory.failed(3)
    for state in STATES:
        conn.zadd(f"rq:{'wip' if state == 'started' else state}:default", {"old": now - 100})
        conn.zadd(f"rq:{'wip' if state == 'started' else state}:default", {"live": -1})
    Queue("default", connection=conn).enqueue(jobs.add, 1, 1)
    service.queue_jobs("default", "queued", 1)  # loads the scripts once
    service.queue_jobs("default", "failed", 1, None, "desc")
    service.queue_jobs("default", "failed", 1, None, "asc")
    round_trips.reset()
    for state in STATES:
        for order in ("asc", "desc"):
            assert service.queue_jobs("default", state, 2, None, order).jobs
    # One script call for the ids, one pipeline for the jobs: nothing else, and no writes.
    assert round_trips.count == 2 * len(STATES) * 2
    assert set(round_trips.commands) == {"EVALSHA", "HGETALL", "XREVRANGE"}
    assert conn.zscore("rq:failed:default", "old") == now - 100
    assert conn.zscore("rq:wip:default", "old") == now - 100


def test_a_tampered_queue_cursor_is_refused(conn, service):
    """A queue cursor is a window of ids (services/reads/queue_list.py), checked before Redis."""
    import base64

    Queue("default", connection=conn).enqueue(jobs.add, 1, 1)

    def forged(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for raw in (
        b"w|0|1",  # no id
        b"w|0|2|a",  # more returned than held
        b"w|0|0|a",
        b"w|x|1|a",
        b"w|-2|1|a",
        b"w|0|1|a:b:c",  # not an id
        b"w|0|1|" + b"|".join([b"a"] * 6),  # more ids than a window holds
        b"w|" + b"9" * 13 + b"|1|a",
    ):
        with pytest.raises(InvalidParameter, match="Invalid cursor"):
            service.queue_jobs("default", "queued", 1, forged(raw))
    # One of ours, and the single-id cursor of earlier releases, still read: their ids are gone,
    # so both go on at the head.
    assert len(service.queue_jobs("default", "queued", 1, forged(b"w|0|1|a|b")).jobs) == 1
    assert len(service.queue_jobs("default", "queued", 1, forged(b"q|gone")).jobs) == 1


def test_jobs_holding_ints_too_long_to_write_are_listed_with_a_note_of_their_size(client, conn):
    """A job whose argument or result is an int of more than 4,300 digits answered its queue's
    pages and job(id) with a 500 (Python writes no such int as text, so JSON cannot hold it)."""
    from tests.conftest import run_worker

    queue = Queue("default", connection=conn)
    # RQ writes a description from the args unless given one: it cannot write this int either.
    waiting = queue.enqueue_call(
        "builtins.pow", args=(10**5000, 1), description="pow(...)", meta={"n": 10**5000}
    )
    done = Queue("done", connection=conn).enqueue("builtins.pow", 10, 5000)
    run_worker(conn, "done")
    note = "<int of about 5001 digits>"
    page = client.get("/api/v1/queues/default/jobs?state=queued")
    assert page.status_code == 200 and page.json()["jobs"][0]["args"] == [note, 1]
    finished = client.get("/api/v1/queues/done/jobs?state=finished")
    assert finished.status_code == 200 and finished.json()["jobs"][0]["result"] == note
    query = "query($id: ID!) { job(id: $id) { args result } }"
    for job_id, expected in (
        (waiting.id, {"args": [note, 1], "result": None}),
        (done.id, {"args": [10, 5000], "result": note}),
    ):
        answer = client.post("/graphql", json={"query": query, "variables": {"id": job_id}}).json()
        assert answer == {"data": {"job": expected}}


def test_jobs_holding_lone_surrogates_answer_every_read_with_their_escapes(client, conn):
    """A str may hold a lone surrogate, which pickle carries and UTF-8 cannot: /jobs/status,
    /search and the failure groups answered 500 for a job whose function name or argument held
    one. It is shown as its backslash escape, as bytes that are not UTF-8 are."""
    queue = Queue("default", connection=conn)
    job = queue.enqueue_call(
        "os.getcwd", args=("a\ud800b", {"k\udfff": 1}), description="x", meta={"m": "\ud800"}
    )
    call = ("o\ud800s.getcwd", None, ("a\ud800b", {"k\udfff": 1}), {})
    conn.hset(f"rq:job:{job.id}", "data", zlib.compress(pickle.dumps(call)))
    # The same job, damaged, in the failed registry as well: the groups read its function.
    conn.zadd("rq:failed:default", {job.id: time.time() + 3600})
    answers = [
        client.get(f"/api/v1/jobs/status/{job.id}"),
        client.get("/api/v1/queues/default/jobs?state=queued"),
        client.get("/api/v1/search?q=args:b&queue=default"),
        client.get("/api/v1/jobs/failed/groups?queue=default"),
    ]
    assert [answer.status_code for answer in answers] == [200] * 4, [a.text[:200] for a in answers]
    shown = answers[0].json()
    assert (shown["args"], shown["func_name"]) == (["a\\ud800b", {"k\\udfff": 1}], "o\\ud800s.getcwd")
    assert answers[2].json()["jobs"][0]["args"] == shown["args"]
    assert [group["func_name"] for group in answers[3].json()["groups"]] == ["o\\ud800s.getcwd"]
