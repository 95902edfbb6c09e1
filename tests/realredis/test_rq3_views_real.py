"""RQ 3's rate limits and job groups on a real redis-server with a real `rq worker`: the views
show the state RQ writes, before and after the worker runs the jobs."""

from __future__ import annotations

from rq import Queue
from rq.group import Group
from rq.rate_limit import RateLimit

from gateway.demo import jobs


def test_rate_limit_and_group_state_before_and_after_a_real_worker(client, r, worker):
    q = Queue("default", connection=r)
    limited = [q.enqueue(jobs.add, i, i, rate_limit=RateLimit("reports-db", 2)).id for i in range(5)]
    group = Group.create(r, name="nightly-import")
    members = [
        job.id
        for job in group.enqueue_many(
            q, [Queue.prepare_data(jobs.add, (1, 1)), Queue.prepare_data(jobs.parse_report, ("garbled",))]
        )
    ]

    (limit,) = client.get("/api/v1/rate-limits").json()["rate_limits"]
    assert (limit["key"], limit["concurrency"], limit["allowed_count"], limit["waiting_count"]) == (
        "reports-db",
        2,
        2,
        3,
    )
    assert {job["job_id"] for job in limit["allowed"] + limit["waiting"]} == set(limited)
    assert {job["status"] for job in limit["waiting"]} == {"rate_limited"}
    assert client.get("/api/v1/job-groups").json() == {"groups": [{"name": "nightly-import", "job_count": 2}]}

    worker()
    limits = client.get("/api/v1/rate-limits").json()["rate_limits"]
    assert all(lim["allowed_count"] == 0 and lim["waiting_count"] == 0 for lim in limits)
    shown = client.get("/api/v1/job-groups/nightly-import").json()
    assert {(job["job_id"], job["status"]) for job in shown["jobs"]} == {
        (members[0], "finished"),
        (members[1], "failed"),
    }
