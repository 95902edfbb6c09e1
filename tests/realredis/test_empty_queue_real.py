"""Emptying a queue on a real redis-server while a real `rq worker` takes jobs from it, and while
another gateway empties it too: every job is either run once or deleted once, never both, and
none is lost."""

from __future__ import annotations

import threading

import redis
from rq import Queue

from gateway.services.writes.empty_queue import empty_queue

from .helpers import start_worker, wait_until, wait_worker

RUNS = "rq-gateway:test:runs"


def test_a_real_worker_and_an_empty_share_the_queue_each_job_once(r, redis_url, client, tmp_path):
    q = Queue("default", connection=r)
    with r.pipeline() as pipe:
        ids = [q.enqueue("control_jobs.count_run", RUNS, pipeline=pipe).id for _ in range(2000)]
        pipe.execute()
    worker = start_worker(redis_url, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: r.hlen(RUNS) >= 5, 30, "the worker to run its first jobs")
        answer = client.post("/api/v1/queues/default/empty")
    finally:
        wait_worker(worker)  # a burst worker exits once the queue is empty
    assert answer.status_code == 200, answer.text
    deleted = answer.json()["deleted_count"]
    runs = {key.decode(): int(count) for key, count in r.hgetall(RUNS).items()}
    assert set(runs.values()) == {1}  # none ran twice
    gone = {job_id for job_id in ids if not r.exists(f"rq:job:{job_id}")}
    assert gone.isdisjoint(runs)  # a deleted job never ran, a job that ran was not deleted
    assert len(gone) == deleted and deleted + len(runs) == len(ids)
    assert r.llen("rq:queue:default") == 0


def test_two_gateways_emptying_at_once_delete_each_job_once(r, redis_server):
    q = Queue("default", connection=r)
    with r.pipeline() as pipe:
        ids = [q.enqueue("control_jobs.count_run", RUNS, pipeline=pipe).id for _ in range(20_000)]
        pipe.execute()
    counts: list[int] = []
    start = threading.Barrier(2)

    def empty() -> None:
        own = redis.Redis.from_url(redis_server.url)  # each its own connection, as two replicas
        try:
            start.wait()
            counts.append(empty_queue(own, "default").deleted_count)
        finally:
            own.close()

    threads = [threading.Thread(target=empty) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == len(ids) and len(counts) == 2
    assert r.llen("rq:queue:default") == 0
    assert r.keys("rq:job:*") == []  # every job deleted with its keys
