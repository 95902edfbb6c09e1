"""Reads never write: expired failed-registry entries are hidden from lists and counts but left in
Redis for RQ's own cleanup; entries that never expire (failure_ttl=-1, score -1) are shown."""

from __future__ import annotations

import time

from rq import Queue
from rq.registry import FailedJobRegistry

from gateway.demo import jobs

from .helpers import API, failed_ids, keyspace

GRAPHQL_FAILED = "{ failedJobs(first: 100) { totalCount nodes { id status } } }"


def test_expired_entries_are_hidden_and_never_touched_negative_scores_are_listed(client, r, worker):
    q = Queue("default", connection=r)
    expired = q.enqueue(jobs.parse_report, "bad-expired").id
    normal = q.enqueue(jobs.parse_report, "bad-normal").id
    forever = q.enqueue(jobs.parse_report, "bad-forever", failure_ttl=-1).id
    worker()
    assert r.zscore("rq:failed:default", forever) == -1  # RQ's own encoding of failure_ttl=-1
    past = int(time.time()) - 100
    r.zadd("rq:failed:default", {expired: past})
    assert r.exists(f"rq:job:{expired}") == 1
    before = keyspace(r)

    listed = client.get(f"{API}/failed").json()
    page = client.get(f"{API}/failed", params={"offset": 1, "limit": 1}).json()
    stats = client.get(f"{API}/stats").json()
    graphql = client.post("/graphql", json={"query": GRAPHQL_FAILED}).json()["data"]["failedJobs"]

    assert [job["job_id"] for job in listed] == [forever, normal]  # -1 sorts first; expired hidden
    assert [job["job_id"] for job in page] == [normal]
    assert {job["status"] for job in listed} == {"failed"}
    assert stats["failed_count"] == 2 == len(listed)
    assert graphql["totalCount"] == 2
    assert [node["id"] for node in graphql["nodes"]] == [forever, normal]
    # Nothing was cleaned up or rewritten: the expired entry and its job are still there.
    assert r.zscore("rq:failed:default", expired) == past
    assert r.exists(f"rq:job:{expired}", f"rq:results:{expired}") == 2
    assert keyspace(r) == before
    # RQ's own cleanup is what removes it.
    FailedJobRegistry(queue=q).cleanup()
    assert failed_ids(r) == [forever, normal]


def test_actions_treat_expired_entries_as_absent_and_leave_them(client, r, fail_jobs):
    expired, live = fail_jobs(2)
    past = int(time.time()) - 100
    r.zadd("rq:failed:default", {expired: past})

    retry = client.post(f"{API}/failed/{expired}/retry")
    delete = client.delete(f"{API}/failed/{expired}")
    retry_all = client.post(f"{API}/failed/retry-all").json()

    assert retry.status_code == 404
    assert delete.status_code == 404
    assert retry_all["total_failed"] == 1
    assert retry_all["requeued_jobs"] == [live]
    assert r.zscore("rq:failed:default", expired) == past
    assert r.exists(f"rq:job:{expired}") == 1
    assert [m.decode() for m in r.lrange("rq:queue:default", 0, -1)] == [live]


def test_never_expiring_entry_can_be_retried(client, r, fail_jobs):
    (forever,) = fail_jobs(1, failure_ttl=-1)
    assert r.zscore("rq:failed:default", forever) == -1

    response = client.post(f"{API}/failed/{forever}/retry")

    assert response.status_code == 200
    assert failed_ids(r) == []
    assert [m.decode() for m in r.lrange("rq:queue:default", 0, -1)] == [forever]
