"""Search through the service (services/reads/search.py, search_page.py) on fakeredis: every
qualifier against jobs run by a real in-process worker, scopes, bounded scans that resume exactly,
the `id:` lookup, and what --hide-payloads and queue patterns allow. Real workers and real Redis
are in tests/realredis/test_search_realredis.py."""

from __future__ import annotations

import base64

import fakeredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import Queue

from gateway.demo import jobs
from gateway.errors import Forbidden, InvalidParameter, InvalidQuery
from gateway.services import JobService, Principal, RequestScope, Role
from gateway.services.domain.search_query import parse_query
from gateway.services.reads.search import scan_search
from gateway.services.reads.search_cursor import decode_search_cursor, encode_search_cursor
from gateway.services.reads.search_limited import decode_limited_cursor
from tests.conftest import run_worker


@pytest.fixture
def seeded(conn):
    """Failed, finished and queued jobs in two queues, with varied args, kwargs and meta."""
    payments = Queue("payments", connection=conn)
    failed = [
        payments.enqueue(
            jobs.fail_with, "ValueError", f"customer {n} declined", meta={"region": f"eu-{n % 2}"}
        )
        for n in range(6)
    ]
    ok = payments.enqueue(jobs.add, 4711, 1)
    run_worker(conn, "payments")
    waiting = Queue("emails", connection=conn).enqueue(jobs.add, 2, y=4711, description="mail for ACME Corp")
    # In registry order (score, then id), the order a scan reads them in.
    in_order = [job.job_id for job in JobService(conn).list_failed("payments")]
    assert sorted(in_order) == sorted(job.id for job in failed)
    return {"failed": in_order, "finished": ok.id, "queued": waiting.id, "enqueued": [j.id for j in failed]}


def ids(page) -> list[str]:
    return [job.job_id for job in page.jobs]


def test_each_qualifier_finds_its_jobs(service: JobService, seeded) -> None:
    assert ids(service.search("args:4711")) == [seeded["finished"]]
    assert ids(service.search("args:[2]")) == [seeded["queued"]]  # the JSON rendering
    assert ids(service.search("kwargs.y:4711")) == [seeded["queued"]]
    assert ids(service.search("func:add status:finished")) == [seeded["finished"]]
    odd = [job_id for job_id in seeded["failed"] if seeded["enqueued"].index(job_id) % 2]
    assert ids(service.search("exc:ValueError meta.region:eu-1")) == odd
    assert ids(service.search('"customer 3 declined"')) == [seeded["enqueued"][3]]
    assert ids(service.search("acme queue:emails")) == [seeded["queued"]]
    assert ids(service.search("queue:emails status:failed")) == []


def test_without_queue_or_state_every_queue_and_registry_is_read(service: JobService, seeded) -> None:
    page = service.search("")
    assert page.complete and page.next_cursor is None
    assert page.scanned == 8
    assert sorted(ids(page)) == sorted([*seeded["failed"], seeded["finished"], seeded["queued"]])
    only = service.search("", queue="payments", state="finished")
    assert ids(only) == [seeded["finished"]] and only.scanned == 1


def test_a_page_resumes_right_after_its_last_match(service: JobService, seeded) -> None:
    first = service.search("exc:ValueError", limit=4)
    assert ids(first) == seeded["failed"][:4] and not first.complete
    rest = service.search("exc:ValueError", limit=4, cursor=first.next_cursor)
    assert ids(rest) == seeded["failed"][4:] and rest.complete


def test_the_scan_limit_bounds_a_request_and_the_cursor_resumes_after_the_last_entry_read(
    service: JobService, seeded
) -> None:
    service.search_scan_limit = 3
    found, scanned, cursor, pages = [], 0, None, 0
    while True:
        page = service.search("status:failed", cursor=cursor)
        assert page.scanned <= 3
        found += ids(page)
        scanned += page.scanned
        pages += 1
        if page.complete:
            break
        cursor = page.next_cursor
    assert found == seeded["failed"]
    assert scanned == 8 and pages >= 3
    service.search_scan_limit = 8  # exactly every entry: the scan ends complete, no empty next page
    page = service.search("status:failed")
    assert page.complete and page.scanned == 8 and page.next_cursor is None


@pytest.fixture(scope="module")
def forty_failed():
    """A snapshot of 40 failed jobs (run once), restored into a fresh fakeredis per example."""
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    queue = Queue("q", connection=conn)
    for n in range(40):
        queue.enqueue(jobs.fail_with, "KeyError", f"k{n}")
    run_worker(conn, "q")
    return {key: conn.dump(key) for key in conn.keys("*")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scan_limit=st.integers(1, 12),
    limit=st.integers(1, 8),
    moves=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(["retry", "delete"])), max_size=25),
)
def test_retries_and_deletes_between_pages_skip_and_repeat_nothing(
    forty_failed, scan_limit, limit, moves
) -> None:
    """Between pages, jobs are retried (back to the queue, where they still match) or deleted. A
    job that stays where it is comes exactly once; no job comes twice; every page is bounded."""
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    for key, dumped in forty_failed.items():
        conn.restore(key, 0, dumped)
    service = JobService(conn)
    service.search_scan_limit = scan_limit
    failed = [job.job_id for job in service.list_failed("q")]
    moved: set[str] = set()
    pending = list(moves)
    found: list[str] = []
    cursor = None
    for _ in range(200):
        page = service.search("func:fail_with", cursor=cursor, limit=limit)
        assert page.scanned <= scan_limit and len(page.jobs) <= limit
        found += ids(page)
        if page.complete:
            break
        cursor = page.next_cursor
        if pending:
            index, action = pending.pop(0)
            job_id = failed[index]
            if job_id not in moved:
                moved.add(job_id)
                (service.retry if action == "retry" else service.delete)(job_id)
    else:
        pytest.fail("the scan never completed")
    assert len(found) == len(set(found))
    stayed = [job_id for job_id in failed if job_id not in moved]
    assert [job_id for job_id in found if job_id in stayed] == stayed


def test_an_id_query_is_one_lookup_checked_against_scope_and_terms(
    service: JobService, seeded, round_trips
) -> None:
    job_id = seeded["failed"][2]
    service.search("")  # registers the scripts
    round_trips.reset()
    page = service.search(f"id:{job_id} exc:ValueError")
    assert ids(page) == [job_id] and page.scanned == 1 and page.complete
    assert page.jobs[0].location is None  # the list's fields, as a scan gives them
    assert round_trips.count <= 2  # the queues set, then the job in one pipeline
    assert ids(service.search(f"id:{job_id}", state="finished")) == []
    assert ids(service.search(f"id:{job_id}", queue="emails")) == []
    assert ids(service.search(f"id:{job_id} func:add")) == []


def test_a_scan_over_many_empty_queues_costs_a_few_round_trips(
    conn, service: JobService, seeded, round_trips
) -> None:
    """A scan read every source of every queue in RQ's set, its list and each registry, with a
    script call each, empty or not; and RQ keeps a queue's name after its last job. With 2,000
    such queues one search was 14,000 round trips (2.3 s on a real Redis) whatever its scan
    limit. An absent key is an empty source: one pipeline checks hundreds of them at a time."""
    conn.sadd("rq:queues", *[f"rq:queue:empty-{n:04d}" for n in range(300)])
    service.search("")  # registers the scripts
    round_trips.reset()
    page = service.search("status:failed")
    assert ids(page) == seeded["failed"] and page.complete
    assert round_trips.count <= 20


def test_malformed_input_is_refused_with_where(service: JobService) -> None:
    with pytest.raises(InvalidQuery, match="position 0"):
        service.search("nope:1")
    with pytest.raises(InvalidParameter, match="Invalid state"):
        service.search("", state="lost")
    with pytest.raises(InvalidParameter, match="Invalid cursor"):
        service.search("", cursor="garbage!")
    # JSON nested deeper than the parser's recursion limit: a RecursionError, not a ValueError.
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
    with pytest.raises(InvalidParameter, match="Invalid cursor"):
        service.search("", cursor=deep)


@pytest.mark.parametrize("state", ["queued", "failed", "rate_limited"])
def test_a_tampered_cursor_is_refused_alike_by_a_scan_and_an_id_lookup_naming_what_was_sent(
    service: JobService, seeded, state
) -> None:
    """A search cursor holds a position in one queue or registry. A tampered one was refused by a
    scan only once it read that source, with a detail quoting the part inside, and an id: lookup
    whose job lies in another source did not read it at all: it answered the job."""
    cursor = encode_search_cursor("emails", state, "garbage!")
    for query in ("", f"id:{seeded['failed'][0]}"):
        with pytest.raises(InvalidParameter) as refused:
            service.search(query, cursor=cursor)
        assert refused.value.message == f"Invalid cursor {cursor!r}: pass next_cursor or endCursor unchanged"


def _as(service: JobService, role: Role, queues=(), hide=False) -> JobService:
    principal = Principal("k", role, tuple(queues))
    return service.scoped(RequestScope(principal, "req", hide_payloads=hide))


def test_queue_patterns_limit_what_a_search_reads(service: JobService, seeded) -> None:
    limited = _as(service, Role.VIEWER, ["emails"])
    assert ids(limited.search("func:add")) == [seeded["queued"]]
    assert ids(limited.search(f"id:{seeded['finished']}")) == []
    with pytest.raises(Forbidden):
        limited.search("", queue="payments")


def test_hidden_payloads_refuse_payload_terms_and_free_text_sees_the_bare_call(
    service: JobService, seeded
) -> None:
    viewer = _as(service, Role.VIEWER, hide=True)
    for query in ("args:4711", "kwargs.y:4711", "meta.region:eu-1"):
        with pytest.raises(Forbidden, match="hide-payloads"):
            viewer.search(query)
    assert ids(viewer.search("acme")) == []  # the description is hidden, so it cannot match
    assert ids(viewer.search('"add(…)"')) == [seeded["queued"], seeded["finished"]]
    page = viewer.search("declined")  # exception lines are shown, so they match
    assert len(page.jobs) == 6 and all(job.args is None for job in page.jobs)
    assert ids(_as(service, Role.OPERATOR, hide=True).search("args:4711")) == [seeded["finished"]]


def test_scan_search_yields_bounded_chunks_for_operations(conn, seeded) -> None:
    service = JobService(conn)
    scope = service.search_scope(parse_query("exc:ValueError"), queue="payments", state="failed")
    chunks = list(scan_search(conn, service.serializer, parse_query("exc:ValueError"), scope, chunk=4))
    assert [len(chunk.hits) for chunk in chunks] == [4, 2, 0]
    assert [hit.job.job_id for chunk in chunks for hit in chunk.hits] == seeded["failed"]
    assert chunks[-1].complete and all(not chunk.complete for chunk in chunks[:-1])


def test_a_limited_keys_search_counts_no_other_queues_rate_limited_jobs(conn) -> None:
    """RQ 3's jobs waiting for a rate-limit slot span queues and are scanned after every queue:
    `scanned` counted all of them, so a billing-* key's search told how many jobs of other queues
    wait for a slot (its scanned minus its own queues' sizes)."""
    from rq.rate_limit import RateLimit

    from tests.keyed import keyed_client

    own = Queue("billing-eu", connection=conn).enqueue(jobs.add, 1, 2).id
    reports = Queue("reports", connection=conn)
    waiting = [reports.enqueue(jobs.add, i, i, rate_limit=RateLimit("reports-api", 1)) for i in range(4)]
    assert conn.zcard("rq:rl:reports-api:rate_limited") == 3, "three wait for the slot one holds"
    billing = keyed_client(conn, "billing").get("/api/v1/search", params={"q": ""}).json()
    assert ([job["job_id"] for job in billing["jobs"]], billing["scanned"]) == ([own], 1)
    admin = keyed_client(conn, "admin").get("/api/v1/search", params={"q": ""}).json()
    assert admin["scanned"] == 1 + 1 + 3 and {job["job_id"] for job in admin["jobs"]} >= {
        w.id for w in waiting
    }


def test_a_limited_keys_cursor_never_names_another_queues_rate_limited_job(conn) -> None:
    """A search stopped by its scan limit inside the rate-limited jobs (which span queues) gave a
    billing-* key a next_cursor holding the last entry examined: another queue's waiting job, by
    id (a cursor is base64 JSON). Its pages must also meet each of its own waiting jobs once."""
    from rq.rate_limit import RateLimit

    from tests.keyed import keyed_client

    limit = RateLimit("shared-api", 1)
    billing_queue, reports = Queue("billing-eu", connection=conn), Queue("reports", connection=conn)
    billing_queue.enqueue(jobs.add, 0, 0, rate_limit=limit)  # holds the one slot
    hidden, own = [], []
    for i in range(6):  # the waiting set, in enqueue order: reports, billing, reports, ...
        hidden.append(reports.enqueue(jobs.add, i, i, rate_limit=limit).id)
        own.append(billing_queue.enqueue(jobs.add, i, i, rate_limit=limit).id)
    assert conn.zcard("rq:rl:shared-api:rate_limited") == 12
    client = keyed_client(conn, "billing", search_scan_limit=2)
    met, cursors, cursor = [], [], None
    for _ in range(20):
        params = {"q": "status:rate_limited", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/search", params=params).json()
        met += [job["job_id"] for job in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        cursors.append(cursor)
    assert cursor is None and sorted(met) == sorted(own)
    for sent in cursors:
        _, state, inner = decode_search_cursor(sent)
        assert state == "rate_limited" and inner
        _, position = decode_limited_cursor(inner)
        assert position is not None and position[1].decode() not in hidden, position


def test_a_cursor_sent_with_another_queue_or_state_is_refused_not_read_as_the_end(
    service: JobService, seeded
) -> None:
    """A cursor is a position in the search that returned it. Sent with another `queue` or
    `state`, it stood past every source of the new search (or before them all), and the page
    answered `complete` with no job, as if that search had nothing more (found black-box)."""
    first = service.search("", queue="payments", state="failed", limit=1)
    assert first.next_cursor is not None and not first.complete
    for queue, state in (("emails", "failed"), ("payments", "finished")):
        with pytest.raises(InvalidParameter, match="continues a search of another queue or state"):
            service.search("", queue=queue, state=state, cursor=first.next_cursor)
    with pytest.raises(InvalidParameter, match="another queue or state"):
        service.search("queue:emails", state="failed", cursor=first.next_cursor)
    # The same search goes on; so does a wider one, for which any queue is a position.
    rest = service.search("", queue="payments", state="failed", limit=100, cursor=first.next_cursor)
    assert ids(first) + ids(rest) == seeded["failed"] and rest.complete
    wider = service.search("", limit=100, cursor=first.next_cursor)
    assert set(ids(rest)) <= set(ids(wider))
