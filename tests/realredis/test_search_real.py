"""Search on a real redis-server over jobs a real `rq worker` ran (tests/realredis/search_jobs.py):
every qualifier, args and meta the gateway cannot decode, scopes, and a bounded scan over more
jobs than one chunk that resumes exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rq import Queue
from rq.job import Job
from rq.rate_limit import RateLimit

from bench.seed import seed_failed
from gateway.demo import jobs as demo_jobs
from gateway.services import JobService

from .helpers import HERE


@pytest.fixture
def shop(r, redis_url, worker) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", "import sys, search_jobs; search_jobs.produce(sys.argv[1])", redis_url],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout)
    worker("shop-eu")  # card_* fail, tokenized finishes; shop-us stays queued
    return ids


def found(client, q: str, **params) -> set[str]:
    response = client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["complete"]
    return {job["job_id"] for job in body["jobs"]}


def test_each_qualifier_over_real_jobs(client, shop) -> None:
    assert found(client, "args:4111") == {shop["card_text"]}  # a Card argument cannot be decoded
    assert found(client, "kwargs.customer:4711") == {shop["card_object"], shop["card_text"]}
    assert found(client, "meta.tenant:acme") == {shop["card_text"]}
    assert found(client, "meta.tier:2") == {shop["card_text"], shop["odd_meta"]}
    assert found(client, "exc:RuntimeError") == {shop["card_object"], shop["card_text"]}
    assert found(client, '"card declined" func:charge') == {shop["card_object"], shop["card_text"]}
    assert found(client, "func:payment_jobs.tokenize status:finished") == {shop["tokenized"]}
    assert found(client, '"acme corp"') == {shop["refund"]}
    assert found(client, "func:charge queue:shop-us") == {shop["odd_meta"]}
    assert found(client, f"id:{shop['odd_meta']} meta.tier:2") == {shop["odd_meta"]}
    assert found(client, "", queue="shop-eu", state="failed") == {shop["card_object"], shop["card_text"]}
    assert found(client, "") == set(shop.values())


def test_undecodable_payloads_do_not_break_a_search(client, shop) -> None:
    body = client.get("/api/v1/search", params={"q": "func:charge"}).json()
    by_id = {job["job_id"]: job for job in body["jobs"]}
    assert by_id[shop["card_object"]]["args"] is None  # shown as it is listed
    assert by_id[shop["card_object"]]["kwargs"] == {"customer": 4711}
    assert shop["odd_meta"] in by_id


def test_a_bounded_scan_over_many_chunks_resumes_exactly(r, redis_url) -> None:
    ids = set(seed_failed(r, redis_url, 1100, queue="bulk", with_worker=10))  # the rest are clones
    service = JobService(r)
    service.search_scan_limit = 400
    seen: list[str] = []
    cursor, requests = None, 0
    while True:
        page = service.search("exc:ValueError func:parse_report", cursor=cursor, limit=1000)
        requests += 1
        assert page.scanned <= 400
        seen += [job.job_id for job in page.jobs]
        if page.complete:
            break
        cursor = page.next_cursor
    assert requests == 3
    assert len(seen) == len(set(seen)) and set(seen) == ids


def test_paging_a_queue_resumes_after_the_last_job_returned_although_it_was_canceled(
    r, redis_url, client
) -> None:
    """The tester's repro: the job a page ended on leaves the queue (canceled here) before the next
    page. The next page used to start again at the head, repeating page 1."""
    from rq import Queue

    from gateway.demo import jobs

    queue = Queue("qc", connection=r)
    ids = [queue.enqueue(jobs.add, n, n, job_id=f"qc-{n:04d}").id for n in range(60)]
    pages, cursor = [], None
    while True:
        params = {"q": "", "queue": "qc", "limit": 20, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/search", params=params).json()
        pages.append([job["job_id"] for job in body["jobs"]])
        if body["complete"]:
            break
        cursor = body["next_cursor"]
        assert client.post(f"/api/v1/jobs/{pages[-1][-1]}/cancel").status_code == 200
    assert pages[0] == ids[:20]
    assert pages[1] == ids[20:40]
    found = [job_id for page in pages for job_id in page]
    # Each job once from the queue; the canceled ones again in the canceled registry, read after
    # it, as a job that moved between requests is (README "Search").
    assert found == [*ids, ids[19], ids[39], ids[59]]


def test_an_id_lookups_cursor_resumes_a_queue_scan_after_its_job_although_it_was_canceled(r, client) -> None:
    """An id: lookup's edge cursor is the scan's right after the job (README "Search"), but for a
    waiting job it held that job alone: once the job left the queue, a scan resumed from it
    guessed that workers took everything up to it and went on at the head, repeating every job
    ahead of it. It now holds the ids around the job, as the scan's cursor there does."""
    from rq import Queue

    from gateway.demo import jobs

    queue = Queue("qi", connection=r)
    ids = [queue.enqueue(jobs.add, n, n, job_id=f"qi-{n:04d}").id for n in range(8)]
    query = (
        'query($q: String!, $after: String) { searchJobs(query: $q, queue: "qi", after: $after) '
        "{ edges { cursor node { id } } } }"
    )

    def edges(q: str, after: str | None = None) -> list[dict]:
        body = client.post("/graphql", json={"query": query, "variables": {"q": q, "after": after}}).json()
        return body["data"]["searchJobs"]["edges"]

    (looked_up,) = edges(f"id:{ids[4]}")
    scanned = {edge["node"]["id"]: edge["cursor"] for edge in edges("")}
    assert looked_up["cursor"] == scanned[ids[4]]
    assert client.post(f"/api/v1/jobs/{ids[4]}/cancel").status_code == 200
    resumed = [edge["node"]["id"] for edge in edges("", looked_up["cursor"])]
    assert resumed == [*ids[5:], ids[4]]  # the canceled job again in the canceled registry


def test_a_queue_whose_name_is_not_utf8_is_searched_and_shown_escaped(r, client, fail_jobs) -> None:
    """RQ's queues set may hold a name that is not UTF-8 (damaged.py). A search over every queue
    reads it by its exact bytes, shows its jobs' origin escaped as the queue list shows the name,
    and pages through it by cursor; it never fails the search."""
    (healthy,) = fail_jobs(1)
    r.sadd("rq:queues", b"rq:queue:caf\xe9")
    r.rpush(b"rq:queue:caf\xe9", b"lost-job")  # its job hash is gone: listed as the queue shows it
    r.zadd(b"rq:failed:caf\xe9", {b"orphan-job": -1})  # -1: never expires

    body = client.get("/api/v1/search", params={"q": ""}).json()
    by_id = {job["job_id"]: job["origin"] for job in body["jobs"]}
    assert by_id == {healthy: "default", "lost-job": "caf\\xe9", "orphan-job": "caf\\xe9"}
    assert body["complete"]
    assert "caf\\xe9" in [queue["queue_name"] for queue in client.get("/api/v1/queues").json()]

    seen, cursor = [], None
    while True:
        params = {"q": "", "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/search", params=params)
        assert response.status_code == 200, response.text
        seen += [job["job_id"] for job in response.json()["jobs"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(by_id)


def test_an_id_lookup_finds_a_job_of_a_queue_whose_name_is_not_utf8(r, client) -> None:
    """The `id:` lookup locates a job by its origin's bytes and shows the queue escaped; it must
    find it in the scope (which holds the name as read from rq:queues) as the scan does, and its
    cursor resume the scan right after it."""
    r.sadd("rq:queues", b"rq:queue:caf\xe9")
    for job_id in ("before", "cafe-job", "after"):
        r.hset(f"rq:job:{job_id}", mapping={"status": "queued", "origin": b"caf\xe9", "description": "x()"})
        r.rpush(b"rq:queue:caf\xe9", job_id)

    response = client.get("/api/v1/search", params={"q": "id:cafe-job"})
    assert response.status_code == 200, response.text
    assert [(job["job_id"], job["origin"]) for job in response.json()["jobs"]] == [("cafe-job", "caf\\xe9")]
    graphql = client.post(
        "/graphql", json={"query": '{ searchJobs(query: "id:cafe-job") { edges { cursor node { id } } } }'}
    ).json()
    (edge,) = graphql["data"]["searchJobs"]["edges"]
    rest = client.get("/api/v1/search", params={"q": "", "cursor": edge["cursor"]}).json()
    assert [job["job_id"] for job in rest["jobs"]] == ["after"]


def test_jobs_waiting_on_an_rq3_rate_limit_are_searched_each_once_in_scope(client, r) -> None:
    """RQ 3 keeps a job waiting for a rate-limit slot (status rate_limited) in its rate-limit
    key's waiting set, in no queue list or registry: a search of every source met none of them.
    They are one source, read after every queue, kept to the jobs of the queues in scope."""
    limit = RateLimit("search-limit", 1)
    default, other = Queue("default", connection=r), Queue("other", connection=r)
    running = default.enqueue(demo_jobs.add, 1, 1, rate_limit=limit).id  # takes the slot: queued
    waiting = [default.enqueue(demo_jobs.add, 2, i, rate_limit=limit).id for i in range(3)]
    elsewhere = other.enqueue(demo_jobs.add, 3, 3, rate_limit=limit).id
    assert {Job.fetch(i, connection=r).get_status() for i in [*waiting, elsewhere]} == {"rate_limited"}
    every = {running, *waiting, elsewhere}
    assert found(client, "func:gateway.demo.jobs.add") == every
    assert found(client, "func:gateway.demo.jobs.add", queue="default") == {running, *waiting}
    assert found(client, "status:rate_limited", queue="other") == {elsewhere}
    # A job a page: each met once, the cursor resuming inside the waiting set.
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"q": "func:gateway.demo.jobs.add", "limit": 1, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/search", params=params).json()
        seen += [job["job_id"] for job in body["jobs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(every)
