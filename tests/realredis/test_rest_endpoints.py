"""The seven documented REST endpoints against a real redis-server, with jobs failed, finished and
rerun by stock `rq worker --burst` processes."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from rq.job import Job
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from gateway.demo import jobs
from tests.contract import CONTRACT_JOB_KEYS, CONTRACT_STATUS_KEYS

from .helpers import (
    API,
    failed_ids,
    queued_ids,
    start_worker,
    wait_until,
    wait_worker,
)


def test_list_failed_has_documented_keys_real_traceback_and_utc_timestamps(client, fail_jobs):
    (job_id,) = fail_jobs(1)

    response = client.get(f"{API}/failed")

    assert response.status_code == 200
    (job,) = response.json()
    assert job.keys() >= CONTRACT_JOB_KEYS
    assert job["job_id"] == job_id
    assert job["func_name"] == "gateway.demo.jobs.parse_report"
    assert job["args"] == ["bad-default-0"]
    assert job["kwargs"] == {}
    assert job["result"] is None
    assert job["status"] == "failed"
    # The traceback the worker recorded, with the frame of the job function and the message.
    assert job["exc_info"].startswith("Traceback (most recent call last):")
    assert (
        'in parse_report\n    raise ValueError(f"malformed report header in {report!r}")' in job["exc_info"]
    )
    assert "ValueError: malformed report header in 'bad-default-0'" in job["exc_info"]
    for field in ("created_at", "ended_at", "started_at", "enqueued_at"):
        assert job[field].endswith("Z"), (field, job[field])
    assert job["created_at"] <= job["enqueued_at"] <= job["started_at"] <= job["ended_at"]


def test_list_failed_limit_and_offset_slice_registry_order(client, r, fail_jobs):
    fail_jobs(5)
    order = failed_ids(r)

    def ids(**params):
        response = client.get(f"{API}/failed", params=params)
        assert response.status_code == 200, response.text
        return [job["job_id"] for job in response.json()]

    assert ids() == order
    assert ids(limit=2) == order[:2]
    assert ids(offset=2) == order[2:]
    assert ids(offset=1, limit=3) == order[1:4]
    assert ids(offset=4, limit=10) == order[4:]
    assert ids(offset=5) == []
    assert ids(limit=0) == []
    assert client.get(f"{API}/failed", params={"limit": -1}).status_code == 422
    assert client.get(f"{API}/failed", params={"offset": -1}).status_code == 422


def test_queue_parameter_selects_another_queues_registry(client, r, fail_jobs):
    default_ids = fail_jobs(2)
    other_ids = fail_jobs(3, queue="other")

    other = client.get(f"{API}/failed", params={"queue": "other"}).json()
    default = client.get(f"{API}/failed").json()

    assert [j["job_id"] for j in other] == failed_ids(r, "other")
    assert sorted(j["job_id"] for j in other) == sorted(other_ids)
    assert {j["origin"] for j in other} == {"other"}
    assert sorted(j["job_id"] for j in default) == sorted(default_ids)
    stats = client.get(f"{API}/stats", params={"queue": "other"}).json()
    assert stats["queue_name"] == "other"
    assert stats["failed_count"] == 3
    # Retry by id acts on the job's own queue; a wrong ?queue= names it (issue 9 point 13).
    response = client.post(f"{API}/failed/{other_ids[0]}/retry", params={"queue": "default"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"Job {other_ids[0]} not found in queue 'default': it is in queue 'other'"
    }
    assert client.post(f"{API}/failed/{other_ids[0]}/retry", params={"queue": "other"}).status_code == 200
    assert client.post(f"{API}/failed/{other_ids[1]}/retry").status_code == 200
    assert queued_ids(r, "other") == other_ids[:2]
    assert queued_ids(r, "default") == []


def test_registry_order_is_ascending_score(client, r, worker):
    q = Queue("default", connection=r)
    # Different failure TTLs give scores that are neither enqueue order nor id order.
    ttls = [5000, 1000, 9000, 3000, 1000, 7000]
    enqueued = [q.enqueue(jobs.parse_report, f"bad-{i}", failure_ttl=ttl).id for i, ttl in enumerate(ttls)]
    worker()

    listed = [job["job_id"] for job in client.get(f"{API}/failed").json()]

    with_scores = r.zrange("rq:failed:default", 0, -1, withscores=True)
    assert listed == [member.decode() for member, _ in with_scores]
    scores = [score for _, score in with_scores]
    assert scores == sorted(scores)
    assert len(set(scores)) >= 4  # the order is decided by the scores, not only by ties
    assert listed != enqueued


def test_retry_requeues_job_that_a_stock_worker_then_finishes(client, r, worker):
    q = Queue("default", connection=r)
    job_id = q.enqueue(jobs.flaky_charge, 42).id
    worker()
    assert failed_ids(r) == [job_id]

    response = client.post(f"{API}/failed/{job_id}/retry")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "job_id": job_id,
        "message": f"Job {job_id} has been requeued successfully",
    }
    assert failed_ids(r) == []
    assert queued_ids(r) == [job_id]
    status = client.get(f"{API}/status/{job_id}").json()
    assert status["status"] == "queued"
    assert status["is_queued"] is True
    assert status["started_at"] is None
    assert status["ended_at"] is None
    assert status["exc_info"] is None
    assert status["enqueued_at"].endswith("Z")

    worker()

    status = client.get(f"{API}/status/{job_id}").json()
    assert status["status"] == "finished"
    assert status["is_finished"] is True
    assert status["result"] == "order 42 charged"
    assert status["exc_info"] is None
    assert status["ended_at"].endswith("Z")
    assert Job.fetch(job_id, connection=r).get_status() == "finished"
    assert r.zscore("rq:finished:default", job_id) is not None
    assert queued_ids(r) == []


def test_retry_unknown_job_is_404_with_contract_detail(client):
    response = client.post(f"{API}/failed/abc-123/retry")
    assert response.status_code == 404
    assert response.json() == {"detail": "Job abc-123 not found in failed jobs registry"}


def test_retry_all_requeues_every_failed_job_once_and_a_worker_runs_them(client, r, worker):
    q = Queue("default", connection=r)
    ids = [q.enqueue(jobs.flaky_charge, order).id for order in (1, 2, 3)]
    worker()
    order = failed_ids(r)
    assert sorted(order) == sorted(ids)

    response = client.post(f"{API}/failed/retry-all")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "total_failed": 3,
        "requeued_count": 3,
        "error_count": 0,
        "requeued_jobs": order,
        "errors": [],
    }
    assert failed_ids(r) == []
    assert queued_ids(r) == order
    again = client.post(f"{API}/failed/retry-all").json()
    assert again["total_failed"] == 0
    assert again["requeued_jobs"] == []
    assert queued_ids(r) == order

    worker()

    for job_id in ids:
        assert client.get(f"{API}/status/{job_id}").json()["status"] == "finished"


def test_delete_removes_registry_entry_job_hash_and_results_stream(client, r, fail_jobs):
    doomed, kept = fail_jobs(2)
    assert r.exists(f"rq:job:{doomed}", f"rq:results:{doomed}") == 2

    response = client.delete(f"{API}/failed/{doomed}")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "job_id": doomed,
        "message": f"Job {doomed} has been deleted successfully",
    }
    assert r.exists(f"rq:job:{doomed}") == 0
    assert r.exists(f"rq:results:{doomed}") == 0
    assert failed_ids(r) == [kept]
    assert r.exists(f"rq:job:{kept}", f"rq:results:{kept}") == 2
    again = client.delete(f"{API}/failed/{doomed}")
    assert again.status_code == 404
    assert again.json() == {"detail": f"Job {doomed} not found in failed jobs registry"}
    assert client.get(f"{API}/status/{doomed}").status_code == 404


def test_clear_deletes_every_failed_job(client, r, fail_jobs, worker):
    ids = fail_jobs(4)
    finished = Queue("default", connection=r).enqueue(jobs.add, 1, 2).id
    worker()
    order = failed_ids(r)

    response = client.delete(f"{API}/failed/clear")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "total_failed": 4,
        "deleted_count": 4,
        "error_count": 0,
        "deleted_jobs": order,
        "errors": [],
    }
    assert failed_ids(r) == []
    for job_id in ids:
        assert r.exists(f"rq:job:{job_id}", f"rq:results:{job_id}") == 0
    # Only the failed registry is cleared.
    assert client.get(f"{API}/status/{finished}").json()["status"] == "finished"
    assert client.get(f"{API}/stats").json()["failed_count"] == 0


def test_status_of_finished_failed_and_queued_jobs(client, r, worker):
    q = Queue("default", connection=r)
    finished = q.enqueue(jobs.add, 2, 3).id
    failed = q.enqueue(jobs.parse_report, "garbled").id
    worker()
    queued = q.enqueue(jobs.simulate_replicated_trade, 9).id

    done = client.get(f"{API}/status/{finished}").json()
    assert done.keys() >= CONTRACT_STATUS_KEYS
    assert done["status"] == "finished"
    assert done["result"] == 5
    assert done["func_name"] == "gateway.demo.jobs.add"
    assert done["args"] == [2, 3]
    assert (done["is_finished"], done["is_failed"], done["is_started"], done["is_queued"]) == (
        True,
        False,
        False,
        False,
    )
    assert done["exc_info"] is None
    assert done["ended_at"].endswith("Z")

    bad = client.get(f"{API}/status/{failed}").json()
    assert bad["status"] == "failed"
    assert bad["is_failed"] is True
    assert bad["result"] is None
    assert "ValueError: malformed report header in 'garbled'" in bad["exc_info"]

    waiting = client.get(f"{API}/status/{queued}").json()
    assert waiting["status"] == "queued"
    assert waiting["is_queued"] is True
    assert waiting["args"] == [9]
    assert waiting["started_at"] is None
    assert waiting["ended_at"] is None
    assert waiting["result"] is None

    missing = client.get(f"{API}/status/no-such-job")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Job no-such-job not found"}


def _rq_counts(q: Queue) -> dict:
    """What RQ itself reports for the queue, without running its cleanup."""
    return {
        "queue_name": q.name,
        "queued_count": len(q),
        "failed_count": FailedJobRegistry(queue=q).get_job_count(cleanup=False),
        "started_count": StartedJobRegistry(queue=q).get_job_count(cleanup=False),
        "finished_count": FinishedJobRegistry(queue=q).get_job_count(cleanup=False),
        "deferred_count": DeferredJobRegistry(queue=q).get_job_count(cleanup=False),
        "scheduled_count": ScheduledJobRegistry(queue=q).get_job_count(cleanup=False),
        "canceled_count": CanceledJobRegistry(queue=q).get_job_count(cleanup=False),
    }


def test_stats_match_what_rq_itself_reports(client, r, worker):
    q = Queue("default", connection=r)
    other = Queue("other", connection=r)
    for i in range(3):
        q.enqueue(jobs.parse_report, f"bad-{i}")
    for i in range(2):
        q.enqueue(jobs.add, i, i)
    other.enqueue(jobs.parse_report, "bad-other")
    worker("default", "other")
    queued = [q.enqueue(jobs.add, 10, i) for i in range(3)]
    q.enqueue(jobs.add, 1, 1, depends_on=queued[0])  # deferred
    q.enqueue_in(timedelta(hours=1), jobs.add, 1, 1)  # scheduled

    stats = client.get(f"{API}/stats").json()

    assert stats == _rq_counts(q)
    assert (stats["queued_count"], stats["failed_count"], stats["finished_count"]) == (3, 3, 2)
    assert (stats["deferred_count"], stats["scheduled_count"], stats["started_count"]) == (1, 1, 0)
    other_stats = client.get(f"{API}/stats", params={"queue": "other"}).json()
    assert other_stats == _rq_counts(other)
    assert (other_stats["failed_count"], other_stats["queued_count"]) == (1, 0)


def test_started_job_is_counted_and_reported_like_rq(client, r, redis_url, tmp_path):
    q = Queue("default", connection=r)
    job_id = q.enqueue(jobs.slow_task, 1.5).id
    started = StartedJobRegistry(queue=q)
    process = start_worker(redis_url, log=tmp_path / "worker.log")
    try:
        wait_until(lambda: started.get_job_count(cleanup=False) == 1, 30, "the worker to start the job")

        stats = client.get(f"{API}/stats").json()
        status = client.get(f"{API}/status/{job_id}").json()
    finally:
        wait_worker(process)

    assert stats["started_count"] == 1
    assert stats["queued_count"] == 0
    assert (status["status"], status["is_started"], status["ended_at"]) == ("started", True, None)
    assert status["started_at"].endswith("Z")
    assert client.get(f"{API}/status/{job_id}").json()["result"] == 1.5
    assert client.get(f"{API}/stats").json()["started_count"] == started.get_job_count(cleanup=False) == 0


def test_stats_canceled_count_matches_rq(client, r):
    q = Queue("default", connection=r)
    q.enqueue(jobs.add, 1, 1)
    q.enqueue(jobs.add, 2, 2).cancel()
    assert CanceledJobRegistry(queue=q).get_job_count(cleanup=True) == 1  # RQ keeps it, even after cleanup

    stats = client.get(f"{API}/stats").json()

    assert stats["queued_count"] == len(q) == 1
    assert stats["canceled_count"] == CanceledJobRegistry(queue=q).get_job_count(cleanup=False) == 1
