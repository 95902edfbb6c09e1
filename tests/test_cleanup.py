"""Explicit cleanup (services/writes/cleanup.py) on fakeredis: RQ's own cleanup, counted per registry."""

from __future__ import annotations

import time

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry, clean_registries

from gateway.demo import jobs


def test_cleanup_removes_expired_entries_and_reports_them(conn, service, factory):
    failed = factory.failed(3)
    finished = factory.finished()
    past = int(time.time()) - 100
    conn.zadd("rq:failed:default", {failed[0]: past, failed[1]: past})
    conn.zadd("rq:finished:default", {finished: past})
    conn.zadd("rq:scheduled:default", {"due": past})  # time-scored: never cleaned up
    before = service.stats()

    outcome = service.cleanup_queue("default")

    assert outcome.removed == {
        "started": 0,
        "finished": 1,
        "failed": 2,
        "deferred": 0,
        "scheduled": 0,
        "canceled": 0,
    }
    assert outcome.total_removed == 3
    assert [m.decode() for m in conn.zrange("rq:failed:default", 0, -1)] == [failed[2]]
    assert conn.zcard("rq:finished:default") == 0
    assert conn.zscore("rq:scheduled:default", "due") == past
    assert service.stats() == before  # the reads had already hidden what cleanup removed


def test_abandoned_started_jobs_move_to_failed_as_rq_does(conn, service):
    job = Queue("default", connection=conn).enqueue(jobs.add, 1, 1)
    conn.lpop("rq:queue:default")
    job.set_status(JobStatus.STARTED)
    conn.zadd(StartedJobRegistry("default", connection=conn).key, {f"{job.id}:exec": time.time() - 10})

    outcome = service.cleanup_queue("default")

    assert outcome.removed["started"] == 1
    assert Job.fetch(job.id, connection=conn).get_status() == JobStatus.FAILED
    assert conn.zscore("rq:failed:default", job.id) is not None


def test_after_our_cleanup_rq_finds_nothing_left_to_do(conn, service, factory):
    failed = factory.failed(2)
    conn.zadd("rq:failed:default", {failed[0]: int(time.time()) - 5})
    service.cleanup_queue("default")
    snapshot = {key: conn.dump(key) for key in conn.scan_iter()}
    clean_registries(Queue("default", connection=conn))
    assert {key: conn.dump(key) for key in conn.scan_iter()} == snapshot


@pytest.mark.parametrize(
    "key",
    ["rq:wip:q", "rq:finished:q", "rq:failed:q", "rq:deferred:q", "rq:rl-keys", "rq:rl-keys (not UTF-8)"],
)
def test_a_registry_of_another_type_is_a_conflict_naming_it_not_a_500(conn, client, key):
    """RQ's cleanup reads the registries as sorted sets (and the rate-limit keys as a set): one of
    another Redis type raised WRONGTYPE, a 500. The queue's own registries are checked before
    anything is cleaned (409, nothing removed); damage RQ meets further on is a 409 too."""
    Queue("q", connection=conn).enqueue(jobs.add, 1, 2)
    if key == "rq:rl-keys (not UTF-8)":
        conn.sadd("rq:rl-keys", b"limit-\xff")  # RQ's cleanup decodes each name: UnicodeDecodeError
    else:
        conn.set(key, "not what RQ wrote")
    response = client.post("/api/v1/queues/q/cleanup")
    assert response.status_code == 409, response.text
    assert "rq:" not in response.json()["detail"]  # messages name no Redis key
    graphql = client.post("/graphql", json={"query": 'mutation { cleanupQueue(name: "q") { totalRemoved } }'})
    assert graphql.json()["errors"][0]["extensions"]["code"] == "CONFLICT"


def test_damage_rq_meets_inside_its_own_pipeline_is_the_cleanups_conflict(conn, client):
    """RQ's cleanup fails an abandoned job in a pipeline, whose errors redis-py annotates
    ('Command # 7 (XADD ...) of pipeline caused error: WRONGTYPE ...'): that is damage RQ met on
    its way too, answered as such, not as the generic wrong-type conflict."""
    job = Queue("q", connection=conn).enqueue(jobs.add, 1, 2)
    conn.hset(job.key, "status", "started")
    conn.zadd("rq:wip:q", {f"{job.id}:1": 1})  # RQ 3 keeps job_id:execution_id here
    conn.set(f"rq:results:{job.id}", "not a stream")
    response = client.post("/api/v1/queues/q/cleanup")
    assert response.status_code == 409, response.text
    assert response.json()["detail"].startswith("RQ's cleanup of queue 'q' stopped on damaged data")
