"""Enqueue-now (issue 15) on a real redis-server: RQ's own scheduler, in a real worker process or
interrupted mid-move in this one, racing the gateway still enqueues each job exactly once."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from .control_workers import running_worker
from .helpers import API, queued_ids, wait_until

RUNS = "rq-gateway:test:runs"


def _status(client, job_id: str) -> str:
    return client.get(f"{API}/status/{job_id}").json()["status"]


def test_without_a_scheduler_the_gateway_enqueues_and_a_real_worker_runs_it(client, r, worker):
    job_id = Queue("default", connection=r).enqueue_in(timedelta(hours=1), "control_jobs.count_run", RUNS).id
    response = client.post(f"{API}/{job_id}/enqueue-now")
    assert response.status_code == 200, response.text
    assert response.json()["enqueued_by"] == "gateway"
    assert queued_ids(r) == [job_id]
    worker()
    assert _status(client, job_id) == "finished" and r.hget(RUNS, job_id) == b"1"
    again = client.post(f"{API}/{job_id}/enqueue-now")
    assert again.status_code == 409
    assert (
        again.json()["detail"]
        == f"Job {job_id} is finished; only scheduled or deferred jobs can be enqueued now"
    )


def test_rqs_scheduler_interrupted_mid_move_gives_one_enqueue(app, r, monkeypatch):
    """RQ's scheduler reads the due ids, then pushes them in a second step: enqueue-now runs
    exactly between the two, on the real server."""
    service = app.state.service
    job_id = (
        Queue("default", connection=r).enqueue_in(timedelta(seconds=-1), "control_jobs.count_run", RUNS).id
    )
    scheduler = RQScheduler(["default"], connection=r)
    assert scheduler.acquire_locks() == {"default"}
    read = ScheduledJobRegistry.get_jobs_to_schedule
    answers = []

    def read_then_enqueue_now(registry, *args, **kwargs):
        ids = read(registry, *args, **kwargs)
        answers.append(service.enqueue_now(job_id).enqueued_by)
        return ids

    monkeypatch.setattr(ScheduledJobRegistry, "get_jobs_to_schedule", read_then_enqueue_now)
    scheduler.enqueue_scheduled_jobs()
    assert answers == ["scheduler"]
    assert queued_ids(r) == [job_id]
    scheduler.release_locks()


def test_a_real_scheduler_racing_enqueue_now_runs_each_job_once(client, r, redis_url, tmp_path):
    q = Queue("default", connection=r)
    with running_worker(redis_url, "with-scheduler", tmp_path / "worker.log", with_scheduler=True):
        wait_until(lambda: r.exists("rq:scheduler-lock:default"), 30, "the scheduler to hold the queue")
        # Due about when the calls are made: the scheduler's ticks and the calls interleave.
        ids = [q.enqueue_in(timedelta(seconds=i % 3), "control_jobs.count_run", RUNS).id for i in range(30)]
        ids += [q.enqueue_in(timedelta(hours=1), "control_jobs.count_run", RUNS).id for _ in range(10)]
        answers = [client.post(f"{API}/{job_id}/enqueue-now") for job_id in ids]
        assert {a.status_code for a in answers} <= {200, 409}
        for answer in answers:  # 409 only for a job the scheduler had already enqueued
            assert answer.status_code == 200 or "only scheduled or deferred" in answer.json()["detail"]
        wait_until(lambda: all(_status(client, j) == "finished" for j in ids), 60, "every job to run")
    runs = {key.decode(): int(value) for key, value in r.hgetall(RUNS).items()}
    assert runs == dict.fromkeys(ids, 1)
    assert r.zcard("rq:scheduled:default") == 0 and r.llen("rq:queue:default") == 0
