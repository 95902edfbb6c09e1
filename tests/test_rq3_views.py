"""RQ 3's rate limits and job groups, read-only, on fakeredis (gateway/services/reads/rq3.py):
the state RQ itself writes, both transports alike, queue patterns honoured, nothing written.
On a real worker: tests/realredis/test_rq3_views_real.py."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.group import Group
from rq.rate_limit import RateLimit

from gateway.demo import jobs
from gateway.errors import JobGroupNotFound
from tests.conftest import run_worker
from tests.keyed import keyed_client
from tests.realredis.helpers import keyspace
from tests.transports import to_rest_shape

LIMIT_FIELDS = (
    "key concurrency allowedCount waitingCount allowed { jobId queue status } waiting { jobId queue status }"
)


def _limited(conn, queue: str = "default", count: int = 3) -> list[str]:
    q = Queue(queue, connection=conn)
    return [q.enqueue(jobs.add, i, i, rate_limit=RateLimit("payments-api", 1)).id for i in range(count)]


def _group(conn) -> tuple[str, list[str]]:
    group = Group.create(conn, name="import-42")
    datas = [Queue.prepare_data(jobs.add, (1, 2)), Queue.prepare_data(jobs.parse_report, ("bad",))]
    created = group.enqueue_many(Queue("default", connection=conn), datas)
    return group.name, [job.id for job in created]


def test_without_rate_limits_or_groups_the_lists_are_empty(service):
    assert (service.rate_limits(), service.job_groups()) == ([], [])
    with pytest.raises(JobGroupNotFound, match="Job group 'nope' not found"):
        service.job_group("nope")


def test_a_rate_limit_shows_who_holds_the_slot_and_who_waits(service, conn):
    first, *waiting = _limited(conn)
    (limit,) = service.rate_limits()
    assert (limit.key, limit.concurrency, limit.allowed_count, limit.waiting_count) == (
        "payments-api",
        1,
        1,
        2,
    )
    assert [(j.job_id, j.queue, j.status) for j in limit.allowed] == [(first, "default", "queued")]
    # Oldest first; jobs enqueued within one timestamp tie by id, as Redis orders equal scores.
    assert sorted((j.job_id, j.status) for j in limit.waiting) == sorted((w, "rate_limited") for w in waiting)
    run_worker(conn)  # RQ frees the slot after each job and promotes the next
    assert all(limit.allowed_count == 0 and limit.waiting_count == 0 for limit in service.rate_limits())


def test_a_job_group_shows_its_jobs_and_their_statuses(service, conn):
    name, (added, failing) = _group(conn)
    assert [(g.name, g.job_count) for g in service.job_groups()] == [(name, 2)]
    run_worker(conn)
    group = service.job_group(name)
    assert group.job_count == 2
    assert {(j.job_id, j.status) for j in group.jobs} == {(added, "finished"), (failing, "failed")}


def test_reading_writes_nothing_even_where_rq_would_clean_up(service, conn):
    name, (added, _) = _group(conn)
    _limited(conn)
    conn.delete(f"rq:job:{added}")  # an expired member: RQ's Group.get_jobs would drop it
    before = keyspace(conn)
    assert {(j.job_id, j.status) for j in service.job_group(name).jobs if j.job_id == added} == {
        (added, None)
    }
    service.rate_limits()
    service.job_groups()
    assert keyspace(conn) == before


def test_queue_patterns(conn):
    _limited(conn, "default")
    billing = _limited(conn, "billing-eu", count=1)
    name, _ = _group(conn)
    client = keyed_client(conn, "billing")
    (limit,) = client.get("/api/v1/rate-limits").json()["rate_limits"]
    shown = [job["job_id"] for job in limit["allowed"] + limit["waiting"]]
    assert shown == billing and limit["allowed_count"] + limit["waiting_count"] == 1
    assert client.get("/api/v1/job-groups").json() == {"groups": []}
    assert client.get(f"/api/v1/job-groups/{name}").status_code == 404  # all its jobs are in default


def test_a_limited_keys_counts_cover_every_member_not_the_first_listed(conn):
    """A group's or rate limit's first 100 members (by id, by score) may all be other queues'
    jobs: a billing-* key's jobGroup then answered NOT_FOUND for a group holding its jobs, and its
    counts covered only its jobs among those 100. They now cover every member."""
    group = Group.create(conn, name="big")
    default, billing = Queue("default", connection=conn), Queue("billing-eu", connection=conn)
    others = group.enqueue_many(default, [Queue.prepare_data(jobs.add, (i, 1)) for i in range(150)])
    mine = group.enqueue_many(billing, [Queue.prepare_data(jobs.add, (i, 2)) for i in range(3)])
    # Ids sort the other queue's jobs first, as ids of any group may happen to.
    for job in others:
        conn.rename(f"rq:job:{job.id}", f"rq:job:0-{job.id}")
        conn.srem("rq:group:big", job.id)
        conn.sadd("rq:group:big", f"0-{job.id}")
    _limited(conn, "default", count=150)
    billing_limited = _limited(conn, "billing-eu", count=2)
    client = keyed_client(conn, "billing")
    answer = client.get("/api/v1/job-groups/big")
    assert answer.status_code == 200, answer.text
    assert answer.json()["job_count"] == 3
    assert sorted(job["job_id"] for job in answer.json()["jobs"]) == sorted(job.id for job in mine)
    (limit,) = client.get("/api/v1/rate-limits").json()["rate_limits"]
    assert limit["allowed_count"] + limit["waiting_count"] == 2
    assert sorted(job["job_id"] for job in limit["allowed"] + limit["waiting"]) == sorted(billing_limited)


def test_both_transports_answer_alike(client, conn):
    _limited(conn)
    name, _ = _group(conn)
    group = f'jobGroup(name: "{name}") {{ name jobCount jobs {{ jobId queue status }} }}'
    query = f"{{ rateLimits {{ {LIMIT_FIELDS} }} jobGroups {{ name jobCount }} {group} }}"
    data = to_rest_shape(client.post("/graphql", json={"query": query}).json()["data"])
    assert data["rate_limits"] == client.get("/api/v1/rate-limits").json()["rate_limits"]
    assert data["job_groups"] == client.get("/api/v1/job-groups").json()["groups"]
    assert data["job_group"] == client.get(f"/api/v1/job-groups/{name}").json()
    missing = client.post("/graphql", json={"query": '{ jobGroup(name: "nope") { name } }'}).json()
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert client.get("/api/v1/job-groups/bad%01name").status_code == 422


def test_rate_limits_read_in_three_round_trips_whatever_their_number(service, conn, round_trips):
    for key in range(5):
        q = Queue("default", connection=conn)
        for i in range(3):
            q.enqueue(jobs.add, i, i, rate_limit=RateLimit(f"api-{key}", 1))
    round_trips.reset()
    limits = service.rate_limits()
    assert [(lim.key, lim.allowed_count, lim.waiting_count) for lim in limits] == [
        (f"api-{key}", 1, 2) for key in range(5)
    ]
    assert round_trips.count == 3
