"""The finish record of an unrestricted admin's operation, read by admins limited to its queue
(README "Audit trail"). Its `job_count` is the jobs the operation acted on; when the operation
named a job of another queue (a reports job's entry in billing-eu's failed registry, retried into
reports), a billing-* reader's view of the operation left it out of `acted`, but the finish
record still counted it, so the trail told the reader that a job of another queue was acted on.
It now counts what the reader's view of the operation counts (and, once the operation is no
longer kept, only what cannot be another queue's job)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from rq.registry import FailedJobRegistry

from gateway.app import create_app
from gateway.config import Settings
from gateway.services.audit import AUDIT_STREAM
from gateway.services.operations.store import RUNNING
from tests.keyed import gql

from .helpers import wait_until
from .job_access import bearer, keyed_app_client

OPS = "/api/v1/operations"
GQL = "{ auditLog(first: 20) { nodes { action key jobCount operationId } } }"


def _finish_counts(client, key: str) -> tuple[int, int]:
    """The finish record's job_count, over REST and GraphQL."""
    entries = client.get("/api/v1/audit", headers=bearer(key)).json()["entries"]
    (rest,) = [e["job_count"] for e in entries if e["action"].endswith(".finish")]
    nodes = gql(client, GQL, headers=bearer(key))["data"]["auditLog"]["nodes"]
    (graphql,) = [n["jobCount"] for n in nodes if n["action"].endswith(".finish")]
    return rest, graphql


def _wait_for_the_finish_record(client, admin: dict, timeout: float) -> None:
    """Until the trail holds the operation's finish (written once the runner has ended it)."""
    wait_until(
        lambda: any(
            entry["action"].endswith(".finish")
            for entry in client.get("/api/v1/audit", headers=admin).json()["entries"]
        ),
        timeout,
        "the finish record",
    )


def test_a_finish_record_counts_only_the_jobs_its_limited_reader_may_see(r, fail_jobs):
    (foreign,) = fail_jobs(1, "reports")
    own = fail_jobs(2, "billing-eu")
    # The reports job's failure entry moved into billing-eu's registry: an unrestricted retry
    # named on billing-eu takes it, and pushes it into its own queue, reports.
    r.zrem(FailedJobRegistry("reports", connection=r).key, foreign)
    r.zadd(FailedJobRegistry("billing-eu", connection=r).key, {foreign: 4_000_000_000})
    client = keyed_app_client(r)
    admin = bearer("admin-all")
    body = {"action": "retry", "queue": "billing-eu", "selector": {"job_ids": [foreign, *own]}}
    started = client.post("/api/v1/operations", json=body, headers=admin).json()

    def ended(key: str) -> dict | None:
        found = client.get(f"/api/v1/operations/{started['id']}", headers=bearer(key)).json()
        return found if found["status"] != "running" else None

    assert wait_until(lambda: ended("admin-all"), 30, "the operation to end")["acted"] == 3
    _wait_for_the_finish_record(client, admin, 10)
    assert _finish_counts(client, "admin-all") == (3, 3)
    limited = ended("admin-billing")
    assert limited is not None and limited["acted"] == 2
    assert _finish_counts(client, "admin-billing") == (2, 2)
    # Once the operation is no longer kept, which ids it acted on is unknown: a named-ids
    # operation's finish counts none of them for a limited reader of another key's record.
    r.delete(f"rq-gateway:operation:{started['id']}")
    assert _finish_counts(client, "admin-billing") == (0, 0)
    assert _finish_counts(client, "admin-all") == (3, 3)


def test_a_registry_operations_finish_record_keeps_its_count(r, fail_jobs):
    """A walk of the registry counts its entries, which the reader's listing shows: its finish
    keeps its count for limited readers, kept or not (the record says what it walked)."""
    fail_jobs(2, "billing-eu")
    client = keyed_app_client(r)
    admin = bearer("admin-all")
    body = {"action": "retry", "queue": "billing-eu", "selector": {"all": True}}
    started = client.post("/api/v1/operations", json=body, headers=admin).json()
    _wait_for_the_finish_record(client, admin, 30)
    assert _finish_counts(client, "admin-billing") == (2, 2)
    r.delete(f"rq-gateway:operation:{started['id']}")
    assert _finish_counts(client, "admin-billing") == (2, 2)


def _finish_records(r) -> list[dict]:
    records = [json.loads(fields[b"record"]) for _, fields in r.xrange(AUDIT_STREAM)]
    return [record for record in records if record["action"].endswith(".finish")]


def test_a_canceled_operation_records_its_finish_with_the_jobs_it_acted_on(slow_app, r, fail_jobs):
    """A canceled operation ended without a finish record: the trail (and
    rq_gateway_jobs_acted_total, counted from that record) never said it had deleted jobs. The
    runner that stops on the cancel writes it, once, with what it acted on up to its last chunk."""
    fail_jobs(300)
    client = TestClient(slow_app)
    body = client.post(OPS, json={"action": "delete", "selector": {"all": True}}).json()
    wait_until(lambda: client.get(f"{OPS}/{body['id']}").json()["acted"] > 0, 30, "a first chunk")
    client.post(f"{OPS}/{body['id']}/cancel")
    slow_app.state.service.operations_runner._threads[body["id"]].join(timeout=10)
    final = client.get(f"{OPS}/{body['id']}").json()
    assert final["status"] == "canceled" and 0 < final["acted"] < 300
    (finish,) = wait_until(lambda: _finish_records(r), 10, "the finish record")
    assert (finish["action"], finish["operation_id"], finish["job_count"]) == (
        "operation_delete.finish",
        body["id"],
        final["acted"],
    )
    # It leaves no lease and no entry in the running set behind.
    assert not r.sismember(RUNNING, body["id"])
    assert not r.exists(f"rq-gateway:operation:{body['id']}:lease")
    client.post(f"{OPS}/{body['id']}/cancel")  # canceling it again records nothing more
    assert len(_finish_records(r)) == 1


def test_canceling_an_operation_no_runner_holds_records_its_finish(slow_app, r, fail_jobs):
    """No runner will stop on the cancel (its process died; the lease lapsed before any other took
    it over): the canceling process writes the finish record."""
    fail_jobs(300)
    client = TestClient(slow_app)
    body = client.post(OPS, json={"action": "delete", "selector": {"all": True}}).json()
    wait_until(lambda: client.get(f"{OPS}/{body['id']}").json()["acted"] > 0, 30, "a first chunk")
    slow_app.state.service.operations_runner.stop()  # as if its process had died
    r.delete(f"rq-gateway:operation:{body['id']}:lease")  # and its lease lapsed
    canceled = client.post(f"{OPS}/{body['id']}/cancel").json()
    (finish,) = wait_until(lambda: _finish_records(r), 10, "the finish record")
    assert (finish["operation_id"], finish["job_count"]) == (body["id"], canceled["acted"])


def test_a_runner_that_dies_holding_a_canceled_operations_lease_leaves_its_finish_to_the_resumer(
    slow_app, redis_url, r, fail_jobs
):
    """The narrow case: the cancel lands while a runner holds the lease, so the canceler leaves
    the record to that runner, which dies before the chunk that would have stopped it. The
    operation stays in the running set until a resumer finds the lease lapsed; the resumer
    writes the record. Before, the cancel took it off the running set and no one ever wrote it."""
    fail_jobs(300)
    client = TestClient(slow_app)
    body = client.post(OPS, json={"action": "retry", "selector": {"all": True}}).json()
    wait_until(lambda: client.get(f"{OPS}/{body['id']}").json()["acted"] > 0, 30, "a first chunk")
    slow_app.state.service.operations_runner.stop(wait=10)  # as if its process had died
    assert r.exists(f"rq-gateway:operation:{body['id']}:lease")  # its lease not yet lapsed
    canceled = client.post(f"{OPS}/{body['id']}/cancel").json()
    assert canceled["status"] == "canceled" and _finish_records(r) == []
    assert r.sismember(RUNNING, body["id"])

    r.delete(f"rq-gateway:operation:{body['id']}:lease")  # the lease lapses
    other = create_app(Settings(redis_url=redis_url))  # another process's resumer
    try:
        assert other.state.service.operations_runner.resume_orphans() == []
    finally:
        other.state.service.connection.close()
    (finish,) = _finish_records(r)
    assert (finish["operation_id"], finish["job_count"]) == (body["id"], canceled["acted"])
    assert not r.sismember(RUNNING, body["id"])
