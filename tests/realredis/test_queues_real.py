"""Queues, registry pages, workers and cleanup on a real redis-server, with every state produced
by real `rq worker` processes."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Queue
from rq.registry import clean_registries

from gateway.demo import jobs
from gateway.services.reads.browse import STATES
from tests.queue_transports import QueueGraphQL, QueueRest, walk

from .helpers import failed_ids, keyspace, start_worker, wait_until, wait_worker

RELEASE = "test:release"


@pytest.fixture
def busy_worker(r, redis_url, tmp_path):
    """busy_worker() starts a real `rq worker --burst` that runs what is queued, then a job that
    runs until the test pushes onto RELEASE; returns (process, blocking job id). The worker is
    released and awaited at teardown."""
    processes = []

    def start():
        blocking = Queue("default", connection=r).enqueue("blocking_jobs.wait_for_release", RELEASE)
        processes.append(start_worker(redis_url, ("default",), log=tmp_path / "worker.log"))
        return processes[-1], blocking.id

    yield start
    for process in processes:
        r.rpush(RELEASE, "go")
        wait_worker(process)


def wait_busy(client, job_id):
    def busy():
        workers = QueueRest(client).workers()
        return workers if [w["current_job_id"] for w in workers] == [job_id] else None

    return wait_until(busy, 30, "the worker to report the blocking job as its current job")


def test_every_state_from_a_real_worker_through_both_transports(client, r, fail_jobs, worker, busy_worker):
    failed = fail_jobs(2)
    queue = Queue("default", connection=r)
    finished = queue.enqueue(jobs.add, 2, 3).id
    process, blocking = busy_worker()
    (info,) = wait_busy(client, blocking)
    # The worker is blocked: what we enqueue now stays put until the release.
    assert info["current_job_id"] == blocking
    queued = [queue.enqueue(jobs.add, i, i).id for i in range(3)]
    deferred = queue.enqueue(jobs.add, 1, 1, depends_on=blocking).id
    scheduled = queue.enqueue_in(timedelta(hours=1), jobs.add, 1, 2).id
    canceled = queue.enqueue(jobs.add, 9, 9)
    canceled.cancel()

    rest, graphql = QueueRest(client), QueueGraphQL(client)
    expected = {
        "started": [blocking],
        "failed": failed,
        "finished": [finished],
        "queued": queued,
        "deferred": [deferred],
        "scheduled": [scheduled],
        "canceled": [canceled.id],
    }
    for state in STATES:
        for api in (rest, graphql):
            total, found = walk(api, "default", state)
            assert sorted(job["job_id"] for job in found) == sorted(expected[state]), state
            assert total == len(expected[state])
            assert {job["status"] for job in found} == {state}
        assert walk(rest, "default", state, "desc") == walk(graphql, "default", state, "desc")
    assert [j["job_id"] for j in walk(rest, "default", "queued")[1]] == queued  # next to run first

    (summary,) = rest.queues()
    assert (summary["started_count"], summary["queued_count"], summary["worker_count"]) == (1, 3, 1)
    assert summary["latency_seconds"] is not None and summary["latency_seconds"] < 60
    (worker_info,) = rest.workers()
    assert worker_info == graphql.workers()[0]
    assert (worker_info["state"], worker_info["queues"], worker_info["pid"]) == (
        "busy",
        ["default"],
        process.pid,
    )
    assert worker_info["successful_job_count"] == 1 and worker_info["total_working_time"] > 0


def test_released_worker_finishes_and_goes_idle_then_away(client, r, busy_worker):
    process, blocking = busy_worker()
    wait_busy(client, blocking)
    r.rpush(RELEASE, "go")
    wait_worker(process)
    assert client.get("/api/v1/workers").json() == []  # a burst worker unregisters when done
    finished = QueueRest(client).jobs_page("default", "finished")
    assert [job["job_id"] for job in finished["jobs"]] == [blocking]
    assert finished["jobs"][0]["result"] == "released"


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("transport", [QueueRest, QueueGraphQL])
def test_paging_while_jobs_are_retried_and_deleted_never_skips_or_repeats(
    client, r, fail_jobs, transport, order
):
    ids = fail_jobs(12) + fail_jobs(12, failure_ttl=10_000)  # two score groups, ties inside each
    api = transport(client)
    registry_order = failed_ids(r) if order == "asc" else failed_ids(r)[::-1]
    assert sorted(registry_order) == sorted(ids)
    gone_before_seen: set[str] = set()
    seen: list[str] = []
    page = api.jobs_page("default", "failed", 4, None, order)
    while True:
        seen += [job["job_id"] for job in page["jobs"]]
        unseen = [
            job_id for job_id in registry_order if job_id not in seen and job_id not in gone_before_seen
        ]
        # Between pages: retry the cursor's own job, retry the next job, delete the one after.
        if page["jobs"]:
            assert api.retry(page["jobs"][-1]["job_id"])["success"]
        for action, job_id in zip((api.retry, api.delete), unseen[:2], strict=False):
            assert action(job_id)["success"]
            gone_before_seen.add(job_id)
        if not page["next_cursor"]:
            break
        page = api.jobs_page("default", "failed", 4, page["next_cursor"], order)
    stayed_until_seen = [job_id for job_id in registry_order if job_id not in gone_before_seen]
    assert seen == stayed_until_seen
    assert len(seen) == len(set(seen))
    assert len(gone_before_seen) >= 6


def test_reads_never_write_in_any_registry(client, r, fail_jobs, worker):
    failed = fail_jobs(3)
    queue = Queue("default", connection=r)
    finished = queue.enqueue(jobs.add, 1, 1).id
    worker()
    queue.enqueue(jobs.add, 2, 2)
    queue.enqueue_in(timedelta(hours=1), jobs.add, 3, 3)
    past = int(time.time()) - 100
    r.zadd("rq:failed:default", {failed[0]: past})
    r.zadd("rq:finished:default", {finished: past})
    r.zadd("rq:wip:default", {f"{failed[1]}:gone-execution": past})
    r.sadd("rq:workers", "rq:worker:died-long-ago")
    r.sadd("rq:workers:default", "rq:worker:died-long-ago")
    before = keyspace(r)

    rest, graphql = QueueRest(client), QueueGraphQL(client)
    for api in (rest, graphql):
        api.queues()
        api.queue("default")
        api.workers()
        for state in STATES:
            for order in ("asc", "desc"):
                walk(api, "default", state, order)

    assert keyspace(r) == before
    assert rest.queue("default")["started_count"] == 0  # expired started entry: hidden, kept
    assert r.zscore("rq:wip:default", f"{failed[1]}:gone-execution") == past


def test_cleanup_removes_what_rq_would_and_a_real_worker_keeps_working(client, r, fail_jobs, worker):
    failed = fail_jobs(3)
    queue = Queue("default", connection=r)
    finished = queue.enqueue(jobs.add, 1, 1).id
    worker()
    past = int(time.time()) - 100
    r.zadd("rq:failed:default", {failed[0]: past, failed[1]: past})
    r.zadd("rq:finished:default", {finished: past})

    response = client.post("/api/v1/queues/default/cleanup")

    assert response.status_code == 200
    assert response.json()["removed"] == {
        "started": 0,
        "finished": 1,
        "failed": 2,
        "deferred": 0,
        "scheduled": 0,
        "canceled": 0,
    }
    assert failed_ids(r) == [failed[2]]
    after = keyspace(r)
    clean_registries(queue)
    assert keyspace(r) == after  # RQ's own cleanup finds nothing left
    again = queue.enqueue(jobs.add, 4, 4).id
    worker()
    assert [j["job_id"] for j in QueueRest(client).jobs_page("default", "finished")["jobs"]] == [again]
