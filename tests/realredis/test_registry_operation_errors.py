"""An unrestricted admin's operation over a queue's whole failed registry, read by keys limited
to that queue (README "Tracked operations", "Roles and API keys"). The registry can hold entries
of other queues' jobs, which the admin's retry fails on (their queue key is damaged): their ids
were left out of a limited reader's `errors`, but `error_count` still counted them, so its
difference from the errors shown told the reader how many jobs of other queues failed. It now
counts the errors it may see, beyond the 100 an operation lists too."""

from __future__ import annotations

from rq.registry import FailedJobRegistry

from tests.live_session import Session, connect

from .helpers import wait_until
from .job_access import _secret, bearer, keyed_app_client

LIVE = "subscription($id: ID!) { operation(id: $id, intervalMs: 500) { errorCount errors { jobId } } }"


def _registry_with_hidden_errors(r, own: int, foreign: int) -> tuple[list[str], list[str]]:
    """billing-eu's failed registry: `own` orphans (ids of no job, which every key sees) and
    `foreign` jobs of reports, whose queue key is of another type, so a retry fails on both."""
    registry = FailedJobRegistry("billing-eu", connection=r).key
    orphans = [f"orphan-{i:03}" for i in range(own)]
    reports = [f"reports-job-{i:03}" for i in range(foreign)]
    for job_id in reports:
        r.hset(f"rq:job:{job_id}", mapping={"status": "failed", "origin": "reports"})
    r.sadd("rq:queues", "rq:queue:reports", "rq:queue:billing-eu")
    r.set("rq:queue:reports", "damaged")
    r.zadd(registry, {job_id: 4_000_000_000 + i for i, job_id in enumerate([*orphans, *reports])})
    return orphans, reports


def _ended(client, operation_id: str, key: str) -> dict | None:
    found = client.get(f"/api/v1/operations/{operation_id}", headers=bearer(key)).json()
    return found if found["status"] != "running" else None


def test_a_limited_reader_of_a_registry_operation_counts_only_the_errors_it_may_see(r):
    orphans, reports = _registry_with_hidden_errors(r, own=60, foreign=70)
    client = keyed_app_client(r)
    body = {"action": "retry", "queue": "billing-eu", "selector": {"all": True}}
    started = client.post("/api/v1/operations", json=body, headers=bearer("admin-all")).json()
    whole = wait_until(lambda: _ended(client, started["id"], "admin-all"), 30, "the operation to end")
    assert (whole["error_count"], len(whole["errors"])) == (130, 100)
    assert [e["job_id"] for e in whole["errors"]] == [*orphans, *reports][:100]
    for key in ("viewer-billing", "admin-billing"):
        limited = _ended(client, started["id"], key)
        assert limited is not None
        assert [e["job_id"] for e in limited["errors"]] == orphans, key
        assert limited["error_count"] == len(orphans), key
        (listed,) = client.get("/api/v1/operations", headers=bearer(key)).json()["operations"]
        assert listed == limited, key
        query = f'{{ operation(id: "{started["id"]}") {{ errorCount errors {{ jobId }} }} }}'
        graphql = client.post("/graphql", json={"query": query}, headers=bearer(key)).json()
        assert graphql["data"]["operation"]["errorCount"] == len(orphans), key
        with connect(keyed_app_client(r)) as ws:
            live = Session(ws)
            live.init(_secret(key))
            live.subscribe("1", LIVE, id=started["id"])
            streamed = live.payload("1")["data"]["operation"]
        assert streamed["errorCount"] == len(orphans), key
        assert [e["jobId"] for e in streamed["errors"]] == orphans, key
