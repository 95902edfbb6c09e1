"""Emptying a queue (`POST /api/v1/queues/{queue}/empty`, `emptyQueue`): what `rq empty` does,
a bounded chunk per Redis call, admin only, audited with its count, with a dry run."""

from __future__ import annotations

import pytest
import redis
from redis.commands.core import Script
from rq import Queue
from rq.group import Group
from rq.job import Job
from rq.rate_limit import RateLimit, RateLimitRegistry

from gateway.demo import jobs
from gateway.services.writes import empty_queue as empty_module
from tests.keyed import keyed_client
from tests.metrics_scrape import scrape, value
from tests.realredis.helpers import keyspace

MUTATION = """mutation($name: String!, $dry: Boolean!) {
  emptyQueue(name: $name, dryRun: $dry) { queueName deletedCount dryRun } }"""


def _queued(conn, count: int, queue: str = "default") -> list[str]:
    q = Queue(queue, connection=conn)
    return [q.enqueue(jobs.add, i, i).id for i in range(count)]


def test_it_deletes_every_queued_job_with_its_keys_as_rq_empty_does(conn, factory):
    failed = factory.failed(1)  # first: its worker runs whatever default holds
    ids = _queued(conn, 5)
    kept = _queued(conn, 2, "other")
    conn.set(f"rq:job:{ids[0]}:dependents", "x")  # RQ's empty deletes a dependents key too
    client = keyed_client(conn, "admin")
    answer = client.post("/api/v1/queues/default/empty")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"queue_name": "default", "deleted_count": 5, "dry_run": False}
    assert conn.llen("rq:queue:default") == 0
    assert not any(conn.exists(f"rq:job:{job_id}") for job_id in ids)
    assert not conn.exists(f"rq:job:{ids[0]}:dependents")
    # Nothing else: the other queue, and the failed registry's job, stay.
    assert Queue("other", connection=conn).job_ids == kept
    assert Job.fetch(failed[0], connection=conn).get_status() == "failed"


def test_a_dry_run_counts_the_queued_jobs_and_writes_nothing(conn):
    _queued(conn, 4)

    def rq_keys() -> dict:  # RQ's data; the audit trail records the dry run
        return {key: kept for key, kept in keyspace(conn).items() if key.startswith(b"rq:")}

    before = rq_keys()
    client = keyed_client(conn, "admin")
    rest = client.post("/api/v1/queues/default/empty", params={"dry_run": "true"}).json()
    graphql = client.post(
        "/graphql", json={"query": MUTATION, "variables": {"name": "default", "dry": True}}
    ).json()
    assert rest == {"queue_name": "default", "deleted_count": 4, "dry_run": True}
    assert graphql == {"data": {"emptyQueue": {"queueName": "default", "deletedCount": 4, "dryRun": True}}}
    assert rq_keys() == before


def test_graphql_empties_as_rest_does(conn):
    _queued(conn, 3)
    client = keyed_client(conn, "admin")
    answer = client.post("/graphql", json={"query": MUTATION, "variables": {"name": "default", "dry": False}})
    assert answer.json() == {
        "data": {"emptyQueue": {"queueName": "default", "deletedCount": 3, "dryRun": False}}
    }
    assert conn.llen("rq:queue:default") == 0


def test_each_redis_call_takes_one_bounded_chunk(conn, monkeypatch, round_trips):
    monkeypatch.setattr(empty_module, "BULK_CHUNK", 7)
    empty_module.empty_queue(conn, "default")  # an empty queue: one call, which loads the script
    _queued(conn, 30)
    round_trips.reset()
    outcome = empty_module.empty_queue(conn, "default")
    assert outcome.deleted_count == 30
    # 7 + 7 + 7 + 7 + 2: each call says how many are left; nothing is read beforehand.
    assert round_trips.commands == ["EVALSHA"] * 5


def test_producers_faster_than_the_empty_cannot_keep_it_going(conn, monkeypatch):
    """Each chunk's deletion is followed by 7 new jobs (a producer as fast as the empty): it
    stops once it has deleted as many as the queue held when it began (20), where a loop until
    the list is empty would never end."""
    monkeypatch.setattr(empty_module, "BULK_CHUNK", 7)
    _queued(conn, 20)
    calls = []

    def produce(deleted: int) -> None:
        calls.append(deleted)
        assert len(calls) < 10, "the empty did not stop"
        _queued(conn, 7)

    outcome = empty_module.empty_queue(conn, "default", progress=produce)
    assert outcome.deleted_count == 21 and calls == [7, 14, 21]
    assert conn.llen("rq:queue:default") == 20 - 21 + 3 * 7


@pytest.mark.parametrize(
    ("key", "status"), [("viewer", 403), ("operator", 403), ("billing", 403), ("admin", 200)]
)
def test_only_admins_may_empty_a_queue(conn, key, status):
    _queued(conn, 2)
    answer = keyed_client(conn, key).post("/api/v1/queues/default/empty")
    assert answer.status_code == status, answer.text
    assert status == 200 or "needs admin" in answer.json()["detail"]
    assert conn.llen("rq:queue:default") == (0 if status == 200 else 2)


def test_an_unknown_queue_is_404_and_a_damaged_one_409(conn):
    client = keyed_client(conn, "admin")
    missing = client.post("/api/v1/queues/nope/empty")
    assert missing.status_code == 404 and missing.json() == {"detail": "Queue 'nope' not found"}
    graphql = client.post("/graphql", json={"query": MUTATION, "variables": {"name": "nope", "dry": False}})
    assert graphql.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    conn.sadd("rq:queues", "rq:queue:broken")
    conn.set("rq:queue:broken", "not a list")
    for dry in ("false", "true"):
        damaged = client.post("/api/v1/queues/broken/empty", params={"dry_run": dry})
        assert damaged.status_code == 409, damaged.text
        assert "detail" in damaged.json()
    assert conn.get("rq:queue:broken") == b"not a list"


def test_it_is_audited_with_its_count_and_counted_once_in_the_metrics(conn):
    _queued(conn, 6)
    client = keyed_client(conn, "admin")

    def acted() -> float:
        return value(scrape(client), "rq_gateway_jobs_acted_total", 0.0, action="empty", outcome="ok")

    before = acted()
    client.post("/api/v1/queues/default/empty", params={"dry_run": "true"})
    client.post("/api/v1/queues/default/empty")
    assert acted() - before == 6
    newest, dry = client.get("/api/v1/audit", params={"limit": 2}).json()["entries"]
    assert (newest["action"], newest["queue"], newest["job_count"], newest["job_ids"]) == (
        "empty",
        "default",
        6,
        [],
    )
    assert (dry["action"], dry["job_count"]) == ("empty.dry_run", 6)  # as a clear's dry run counts


def test_redis_failing_midway_is_a_503_and_the_audit_counts_what_was_deleted(conn, monkeypatch):
    # Two chunks of 7 go, then Redis refuses (out of memory): the answer is a 503, and the audit
    # record and the metric say 14 jobs were deleted, not 0, which would hide a loss.
    monkeypatch.setattr(empty_module, "BULK_CHUNK", 7)
    _queued(conn, 30)
    client = keyed_client(conn, "admin")
    calls = []
    call = Script.__call__

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'.")
        return call(self, *args, **kwargs)

    def acted() -> float:
        return value(scrape(client), "rq_gateway_jobs_acted_total", 0.0, action="empty", outcome="error")

    before = acted()
    monkeypatch.setattr(Script, "__call__", failing)
    answer = client.post("/api/v1/queues/default/empty")
    monkeypatch.setattr(Script, "__call__", call)
    assert answer.status_code == 503 and "detail" in answer.json(), answer.text
    assert conn.llen("rq:queue:default") == 16
    (entry,) = client.get("/api/v1/audit", params={"limit": 1}).json()["entries"]
    assert (entry["action"], entry["outcome"], entry["job_count"]) == ("empty", "error", 14)
    assert acted() - before == 14
    # Sent again, it empties the rest.
    assert client.post("/api/v1/queues/default/empty").json()["deleted_count"] == 16


def test_an_emptied_job_leaves_its_rq_group_and_damaged_job_keys_do_not_stop_it(conn):
    group = Group.create(connection=conn, name="batch")
    grouped = [
        job.id
        for job in group.enqueue_many(
            Queue("default", connection=conn), [Queue.prepare_data(jobs.add, (i, i)) for i in range(3)]
        )
    ]
    (elsewhere,) = [
        job.id
        for job in group.enqueue_many(Queue("other", connection=conn), [Queue.prepare_data(jobs.add, (9, 9))])
    ]
    conn.rpush("rq:queue:default", "string-job")
    conn.set("rq:job:string-job", "not a hash")  # HGET group_id fails on it: the chunk goes on
    answer = keyed_client(conn, "admin").post("/api/v1/queues/default/empty")
    assert answer.json()["deleted_count"] == 4, answer.text
    assert conn.smembers("rq:group:batch") == {elsewhere.encode()}  # as Job.delete's Group.delete_job
    assert not any(conn.exists(f"rq:job:{job_id}") for job_id in [*grouped, "string-job"])


def test_rate_limited_jobs_slots_come_back_at_rqs_cleanup_as_after_rq_empty(conn):
    # README: a job holding an RQ 3 rate-limit slot frees it at RQ's next registry cleanup, and
    # jobs waiting for a slot are not in the queue: they stay, and that cleanup lets them in.
    q = Queue("limited", connection=conn)
    limit = RateLimit("api", concurrency=2)
    ids = [q.enqueue(jobs.add, i, i, rate_limit=limit).id for i in range(5)]
    registry = RateLimitRegistry("api", conn)
    assert (conn.llen("rq:queue:limited"), registry.get_rate_limited_job_count()) == (2, 3)
    client = keyed_client(conn, "admin")
    assert client.post("/api/v1/queues/limited/empty").json()["deleted_count"] == 2
    assert registry.get_rate_limited_job_count() == 3 and conn.llen("rq:queue:limited") == 0
    assert client.post("/api/v1/queues/limited/cleanup").status_code == 200
    promoted = q.job_ids  # the two freed slots go to two of the jobs waiting
    assert len(promoted) == 2 and set(promoted) <= set(ids[2:])
    assert registry.get_rate_limited_job_count() == 1
