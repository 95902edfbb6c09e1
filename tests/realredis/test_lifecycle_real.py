"""Cancel, requeue and "where is this job" on a real Redis, with a stock `rq worker` before and
after: what the gateway leaves behind must be what RQ itself would, so RQ keeps working on it."""

from __future__ import annotations

from rq import Queue
from rq.command import send_stop_job_command
from rq.job import Job
from rq.registry import CanceledJobRegistry

from gateway.demo import jobs

from .helpers import API, failed_ids, queued_ids, start_worker, wait_until, wait_worker

DETAIL_FIELDS = "location { queue registry } dependencyIds dependentIds"


def _status(client, job_id: str) -> dict:
    response = client.get(f"{API}/status/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_canceled_job_is_skipped_by_a_worker_then_requeued_and_run(client, r, worker):
    q = Queue("default", connection=r)
    canceled, other = q.enqueue(jobs.add, 2, 3).id, q.enqueue(jobs.add, 1, 1).id

    response = client.post(f"{API}/{canceled}/cancel")

    assert response.status_code == 200, response.text
    assert queued_ids(r) == [other]
    assert CanceledJobRegistry(queue=q).get_job_ids(cleanup=False) == [canceled]
    assert _status(client, canceled)["location"] == {"queue": "default", "registry": "canceled"}
    worker()
    assert Job.fetch(canceled, connection=r).get_status() == "canceled"  # the worker never saw it
    again = client.post(f"{API}/{canceled}/cancel")
    assert again.status_code == 409
    assert again.json() == {
        "detail": f"Job {canceled} is canceled; only queued, deferred or scheduled jobs can be canceled"
    }

    assert client.post(f"{API}/{canceled}/requeue").status_code == 200
    assert _status(client, canceled)["location"] == {"queue": "default", "registry": "queued"}
    assert CanceledJobRegistry(queue=q).get_job_ids(cleanup=False) == []
    worker()
    status = _status(client, canceled)
    assert (status["status"], status["result"], status["location"]["registry"]) == ("finished", 5, "finished")


def test_deferred_job_dependencies_and_cancel(client, r, worker):
    q = Queue("default", connection=r)
    parent = q.enqueue(jobs.add, 1, 2).id
    child = q.enqueue(jobs.add, 3, 4, depends_on=parent).id
    grandchild = q.enqueue(jobs.add, 5, 6, depends_on=child).id

    parent_status, child_status = _status(client, parent), _status(client, child)
    assert (parent_status["dependency_ids"], parent_status["dependent_ids"]) == ([], [child])
    assert (child_status["dependency_ids"], child_status["dependent_ids"]) == ([parent], [grandchild])
    assert child_status["location"] == {"queue": "default", "registry": "deferred"}
    graphql = client.post(
        "/graphql",
        json={"query": f'{{ job(id: "{child}") {{ {DETAIL_FIELDS} }} }}'},
    ).json()["data"]["job"]
    assert graphql == {
        "location": child_status["location"],
        "dependencyIds": [parent],
        "dependentIds": [grandchild],
    }

    assert client.post(f"{API}/{grandchild}/cancel").status_code == 200
    assert r.zscore("rq:deferred:default", grandchild) is None
    worker()
    assert _status(client, child)["status"] == "finished"
    assert _status(client, grandchild)["location"] == {"queue": "default", "registry": "canceled"}
    assert client.post(f"{API}/{parent}/cancel").status_code == 409


def test_stopped_job_is_requeued_and_finished_by_a_real_worker(client, r, redis_url, tmp_path):
    release = "rq-gateway:test:release"
    # By name: the worker imports lifecycle_jobs from this directory (on its PYTHONPATH).
    job_id = Queue("default", connection=r).enqueue("lifecycle_jobs.wait_for_release", release).id
    process = start_worker(redis_url, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: _status(client, job_id)["status"] == "started", 30, "the job to start")
        assert _status(client, job_id)["location"]["registry"] == "started"
        assert client.post(f"{API}/{job_id}/requeue").status_code == 409
        send_stop_job_command(r, job_id)
    finally:
        wait_worker(process)
    assert _status(client, job_id)["status"] == "stopped"
    assert failed_ids(r) == [job_id]

    r.set(release, 1)
    assert (
        client.post(f"{API}/{job_id}/requeue").json()["message"]
        == f"Job {job_id} has been requeued successfully"
    )
    assert failed_ids(r) == [] and queued_ids(r) == [job_id]
    wait_worker(start_worker(redis_url, log=tmp_path / "worker2.log"))
    status = _status(client, job_id)
    assert (status["status"], status["result"]) == ("finished", "released")


def test_graphql_cancel_and_requeue_codes(client, r, fail_jobs):
    (failed,) = fail_jobs(1)
    query = 'mutation { %s(id: "%s") { success message } }'
    body = client.post("/graphql", json={"query": query % ("cancelJob", failed)}).json()
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    body = client.post("/graphql", json={"query": query % ("requeueJob", "no-such-job")}).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert _status(client, failed)["location"] == {"queue": "default", "registry": "failed"}


def test_cancel_racing_a_real_worker_never_cancels_a_job_that_runs(client, r, redis_url, tmp_path):
    q = Queue("default", connection=r)
    ids = [q.enqueue(jobs.add, i, i).id for i in range(60)]
    process = start_worker(redis_url, log=tmp_path / "worker.log")
    try:
        # Cancel from the back of the queue while the worker eats it from the front.
        answers = {job_id: client.post(f"{API}/{job_id}/cancel").status_code for job_id in reversed(ids)}
    finally:
        wait_worker(process)
    canceled = {job_id for job_id, code in answers.items() if code == 200}
    assert set(answers.values()) <= {200, 409}
    assert canceled, "the worker ran every job before any cancel: the race did not happen"
    for job_id in ids:
        job = Job.fetch(job_id, connection=r)
        if job_id in canceled:
            assert job.get_status() == "canceled" and job.return_value() is None, job_id
        else:
            assert job.get_status() == "finished", job_id
    assert set(CanceledJobRegistry(queue=q).get_job_ids(cleanup=False)) == canceled
    assert r.llen("rq:queue:default") == 0
