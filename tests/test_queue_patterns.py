"""Queue-name patterns on API keys: a key limited to some queues reads, lists and changes only
those, on REST and GraphQL alike."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.services import JobService
from gateway.services.principal import Role
from tests.keyed import code_of, gql, keyed_client

JOB = "query($id: ID!) { job(id: $id) { id } }"


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_queue_patterns_limit_a_key_to_its_queues(conn, factory, transport):
    (billing_job,) = factory.failed(1, queue="billing-eu")
    (other_job,) = factory.failed(1, queue="default")
    client = keyed_client(conn, "billing")
    if transport == "rest":
        assert client.get("/api/v1/jobs/stats?queue=billing-eu").status_code == 200
        assert client.get("/api/v1/jobs/stats").status_code == 403
        assert client.get("/api/v1/jobs/failed?queue=default").status_code == 403
        # A job outside the patterns answers like a missing one (tests/realredis/test_job_access.py).
        assert client.get(f"/api/v1/jobs/status/{other_job}").status_code == 404
        assert client.get(f"/api/v1/jobs/status/{billing_job}").status_code == 200
        assert client.post(f"/api/v1/jobs/failed/{other_job}/retry?queue=default").status_code == 404
        assert client.post(f"/api/v1/jobs/failed/{billing_job}/retry?queue=billing-eu").status_code == 200
        assert client.delete("/api/v1/jobs/failed/clear?queue=billing-eu").status_code == 403  # role
        refused = client.get("/api/v1/jobs/stats").json()["detail"]
    else:
        assert code_of(gql(client, '{ queueStats(queue: "billing-eu") { failedCount } }')) is None
        assert code_of(gql(client, "{ queueStats { failedCount } }")) == "FORBIDDEN"
        assert code_of(gql(client, JOB, id=other_job)) == "NOT_FOUND"
        assert code_of(gql(client, JOB, id=billing_job)) is None
        retry = "mutation($id: ID!, $q: String) { retryFailedJob(id: $id, queue: $q) { success } }"
        assert code_of(gql(client, retry, id=other_job, q="default")) == "NOT_FOUND"
        assert code_of(gql(client, retry, id=billing_job, q="billing-eu")) is None
        refused = gql(client, "{ queueStats { failedCount } }")["errors"][0]["message"]
    assert refused == "API key 'billing' may not access queue 'default'"
    assert conn.zcard("rq:failed:default") == 1, "the refused retry did nothing"


def test_may_access_queue_filters_lists_of_queues(conn):
    from gateway.services.principal import Principal, RequestScope

    service = JobService(conn)
    assert service.may_access_queue("anything"), "an unbound service is unrestricted"
    limited = service.scoped(RequestScope(Principal("b", Role.VIEWER, ("billing-*", "reports")), "r1"))
    names = ["billing-eu", "billing-us", "default", "reports", "reports-2"]
    assert [n for n in names if limited.may_access_queue(n)] == ["billing-eu", "billing-us", "reports"]
    assert service.scope is None, "scoping returns a copy; the shared service stays unbound"


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_queue_listings_and_cleanup_follow_roles_and_patterns(conn, factory, caplog, transport):
    caplog.set_level(logging.INFO, logger="rq_gateway.audit")
    factory.failed(1, queue="billing-eu")
    factory.failed(1, queue="default")
    billing, admin, operator = (keyed_client(conn, key) for key in ("billing", "admin", "operator"))
    if transport == "rest":
        names = [q["queue_name"] for q in billing.get("/api/v1/queues").json()]
        everything = [q["queue_name"] for q in admin.get("/api/v1/queues").json()]
        assert billing.get("/api/v1/queues/default").status_code == 403
        assert billing.get("/api/v1/queues/default/jobs?state=failed").status_code == 403
        assert billing.get("/api/v1/queues/billing-eu/jobs?state=failed").status_code == 200
        assert operator.post("/api/v1/queues/default/cleanup").status_code == 403
        assert admin.post("/api/v1/queues/default/cleanup").status_code == 200
    else:
        names = [q["queueName"] for q in gql(billing, "{ queues { queueName } }")["data"]["queues"]]
        everything = [q["queueName"] for q in gql(admin, "{ queues { queueName } }")["data"]["queues"]]
        assert code_of(gql(billing, '{ queue(name: "default") { queueName } }')) == "FORBIDDEN"
        cleanup = 'mutation { cleanupQueue(name: "default") { __typename } }'
        assert code_of(gql(operator, cleanup)) == "FORBIDDEN"
        assert code_of(gql(admin, cleanup)) is None
    assert names == ["billing-eu"] and everything == ["billing-eu", "default"]
    audited = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rq_gateway.audit"]
    assert [(a["key"], a["action"], a["queue"], a["outcome"]) for a in audited] == [
        ("operator", "cleanup", "default", "refused"),
        ("admin", "cleanup", "default", "ok"),
    ]


WORKERS = "{ workers { name queues currentJobId } }"


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_a_limited_key_sees_only_its_queues_workers_and_their_jobs(conn, factory, transport):
    """The worker list used to be served whole to every key: a `billing-*` key read the names of
    queues `GET /queues` hides from it, and the ids of the jobs other queues' workers ran."""
    from rq import Queue, Worker

    def worker(name: str, queues: list[str], current: str | None = None) -> None:
        registered = Worker([Queue(q, connection=conn) for q in queues], name=name, connection=conn)
        registered.register_birth()
        if current is not None:  # as RQ 1.x kept it (RQ 2+: an execution; both are read)
            conn.hset(registered.key, "current_job", current)

    billing_job = factory.queued("billing-us")
    default_job = factory.queued("default")
    worker("a-both", ["billing-eu", "default"], current=default_job)
    worker("b-default", ["default"], current=default_job)
    worker("c-billing", ["billing-us"], current=billing_job)
    worker("d-gone-job", ["billing-eu"], current="no-such-job")
    admin, billing = keyed_client(conn, "admin"), keyed_client(conn, "billing")

    def seen(client) -> list[tuple]:
        if transport == "rest":
            rows = client.get("/api/v1/workers").json()
            return [(w["name"], w["queues"], w["current_job_id"]) for w in rows]
        rows = gql(client, WORKERS)["data"]["workers"]
        return [(w["name"], w["queues"], w["currentJobId"]) for w in rows]

    assert seen(billing) == [
        ("a-both", ["billing-eu"], None),
        ("c-billing", ["billing-us"], billing_job),
        ("d-gone-job", ["billing-eu"], None),
    ]
    assert seen(admin) == [
        ("a-both", ["billing-eu", "default"], default_job),
        ("b-default", ["default"], default_job),
        ("c-billing", ["billing-us"], billing_job),
        ("d-gone-job", ["billing-eu"], "no-such-job"),
    ]


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_a_limited_key_sees_a_worker_busy_with_another_queues_job_as_busy_without_its_job(
    conn, factory, transport
):
    """Decided, not a leak to fix (README "Roles and API keys"): a worker of billing-eu and
    default running a default job is `busy` with no current job to a billing-* key. Its state is
    the key's business: the worker takes none of its jobs now, which is why they wait; shown idle,
    it would send the key looking for a fault that is not there. What the key learns, that the
    worker runs a job it may not see, its queue's wait tells it anyway; which job or queue, never."""
    from rq import Queue, Worker

    default_job = factory.queued("default")
    worker = Worker([Queue(q, connection=conn) for q in ("billing-eu", "default")], name="w", connection=conn)
    worker.register_birth()
    conn.hset(worker.key, mapping={"state": "busy", "current_job": default_job})
    billing, admin = keyed_client(conn, "billing"), keyed_client(conn, "admin")

    def seen(client) -> tuple:
        if transport == "rest":
            (row,) = client.get("/api/v1/workers").json()
            return row["state"], row["queues"], row["current_job_id"]
        (row,) = gql(client, "{ workers { state queues currentJobId } }")["data"]["workers"]
        return row["state"], row["queues"], row["currentJobId"]

    assert seen(billing) == ("busy", ["billing-eu"], None)
    assert seen(admin) == ("busy", ["billing-eu", "default"], default_job)


def test_a_limited_key_sees_a_workers_job_only_when_it_may_see_that_job_by_id(conn, factory):
    """A job whose origin is not UTF-8 has an unknown queue, in no pattern: `job(id)` answers a
    billing-* key 404 for it. The worker list read that origin with surrogate escapes, which
    `billing-*` matched, so it showed the key the id of a job it may not see."""
    from rq import Queue, Worker

    odd_job = factory.queued("billing-us")
    conn.hset(f"rq:job:{odd_job}", "origin", b"billing-\xff")
    worker = Worker([Queue("billing-us", connection=conn)], name="w", connection=conn)
    worker.register_birth()
    conn.hset(worker.key, "current_job", odd_job)
    billing = keyed_client(conn, "billing")
    assert billing.get(f"/api/v1/jobs/status/{odd_job}").status_code == 404
    assert [(w["name"], w["current_job_id"]) for w in billing.get("/api/v1/workers").json()] == [("w", None)]
    assert keyed_client(conn, "admin").get("/api/v1/workers").json()[0]["current_job_id"] == odd_job


@pytest.mark.parametrize("transport", ["rest", "graphql"])
def test_a_limited_key_reads_no_counters_of_a_worker_that_serves_other_queues(conn, transport):
    """A worker's job counters and working time cover every queue it listens to: a billing-* key
    seeing a worker of billing-eu and default would read how many default jobs ran and failed."""
    from rq import Queue, Worker

    for name, queues, counts in (("a-both", ["billing-eu", "default"], 7), ("c-billing", ["billing-us"], 3)):
        registered = Worker([Queue(q, connection=conn) for q in queues], name=name, connection=conn)
        registered.register_birth()
        conn.hset(
            registered.key,
            mapping={"successful_job_count": counts, "failed_job_count": 1, "total_working_time": 2.5},
        )
    admin, billing = keyed_client(conn, "admin"), keyed_client(conn, "billing")

    def counters(client) -> list[tuple]:
        if transport == "rest":
            rows = client.get("/api/v1/workers").json()
            keys = ("successful_job_count", "failed_job_count", "total_working_time")
        else:
            query = "{ workers { name successfulJobCount failedJobCount totalWorkingTime } }"
            rows = gql(client, query)["data"]["workers"]
            keys = ("successfulJobCount", "failedJobCount", "totalWorkingTime")
        return [(row["name"], *(row[key] for key in keys)) for row in rows]

    assert counters(billing) == [("a-both", None, None, None), ("c-billing", 3, 1, 2.5)]
    assert counters(admin) == [("a-both", 7, 1, 2.5), ("c-billing", 3, 1, 2.5)]
