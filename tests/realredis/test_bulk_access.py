"""Bulk actions of a queue-limited key take only the queue's own jobs. A failed registry may hold
an entry whose job hash names another queue as its origin, or none (an orphan, an emptied origin):
retrying it pushes into that other queue, deleting it deletes another queue's job. For one job
addressed by id, such a job answers a limited key exactly like a missing one (job_access.py);
retry-all, clear, failure groups and tracked operations over the queue leave it alone the same
way, and an unrestricted key still acts on it."""

from __future__ import annotations

import pytest

from .helpers import failed_ids, queued_ids, wait_until
from .job_access import bearer, keyed_app_client

QUEUE = "billing-eu"
REGISTRY = f"rq:failed:{QUEUE}"


@pytest.fixture
def odd(r, fail_jobs) -> dict[str, list[str]]:
    """The queue's own failed jobs, and three entries in its registry that are not known to be its
    own: a copy of a `reports` job, an orphan, and one of its jobs with its origin emptied."""
    mine = fail_jobs(2, queue=QUEUE)
    (emptied,) = fail_jobs(1, queue=QUEUE)
    r.hset(f"rq:job:{emptied}", "origin", "")
    (reports,) = fail_jobs(1, queue="reports")
    r.copy(f"rq:job:{reports}", "rq:job:foreign")
    score = r.zscore(REGISTRY, mine[0])
    r.zadd(REGISTRY, {"foreign": score, "orphan": score})
    return {"mine": mine, "others": ["foreign", "orphan", emptied]}


def _left_alone(r, odd, mine_too: bool = False) -> None:
    """The entries not known to be the queue's are where they were (and the queue's own, when
    the action did not name them)."""
    assert sorted(failed_ids(r, QUEUE)) == sorted(odd["others"] + (odd["mine"] if mine_too else []))
    assert queued_ids(r, "reports") == [] and sorted(queued_ids(r, QUEUE)) in ([], sorted(odd["mine"]))
    assert r.hget("rq:job:foreign", "status") == b"failed"


def test_retry_all_and_clear_of_a_limited_key_take_only_the_queues_own_jobs(r, odd):
    client = keyed_app_client(r)
    dry = client.post(
        f"/api/v1/jobs/failed/retry-all?queue={QUEUE}&dry_run=true", headers=bearer("operator-billing")
    ).json()
    retried = client.post(f"/api/v1/jobs/failed/retry-all?queue={QUEUE}", headers=bearer("operator-billing"))
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert sorted(body["requeued_jobs"]) == sorted(odd["mine"]) == sorted(dry["requeued_jobs"])
    assert body["errors"] == [] and body["error_count"] == 0
    assert sorted(queued_ids(r, QUEUE)) == sorted(odd["mine"])
    _left_alone(r, odd)

    cleared = client.delete(f"/api/v1/jobs/failed/clear?queue={QUEUE}", headers=bearer("admin-billing"))
    assert cleared.status_code == 200 and cleared.json()["deleted_count"] == 0, cleared.text
    _left_alone(r, odd)

    everything = client.delete(f"/api/v1/jobs/failed/clear?queue={QUEUE}", headers=bearer("admin-all"))
    assert everything.json()["deleted_count"] == 3
    assert failed_ids(r, QUEUE) == [] and not r.exists("rq:job:foreign")


def _operation(client, key: str, action: str, selector: dict) -> dict:
    body = {"action": action, "queue": QUEUE, "selector": selector}
    started = client.post("/api/v1/operations", json=body, headers=bearer(key))
    assert started.status_code == 202, started.text

    def ended():
        body = client.get(f"/api/v1/operations/{started.json()['id']}", headers=bearer(key)).json()
        return body if body["status"] != "running" else None

    return wait_until(ended, 30, "the operation to end")


@pytest.mark.parametrize(
    "selector",
    [
        {"all": True},
        {"filter": {"func_name": "gateway.demo.jobs.parse_report"}},
        {"job_ids": ["foreign", "orphan"]},
    ],
    ids=["all", "filter", "job_ids"],
)
def test_an_operation_of_a_limited_key_takes_only_the_queues_own_jobs(r, odd, selector):
    client = keyed_app_client(r)
    named = "job_ids" in selector
    body = {"action": "retry", "queue": QUEUE, "selector": selector, "dry_run": True}
    dry = client.post("/api/v1/operations", json=body, headers=bearer("operator-billing")).json()
    retried = _operation(client, "operator-billing", "retry", selector)
    fields = ("total", "done", "matched", "acted", "error_count")
    assert {f: dry[f] for f in fields} == {f: retried[f] for f in fields}
    assert retried["status"] == "succeeded"
    assert retried["acted"] == (0 if named else 2)
    # The entries not the queue's own are examined (the registry's size, as its failed_count
    # says) but, as absent to this key, not matched: matched is what it took, not 5 (or 4).
    assert (retried["total"], retried["done"]) == ((2, 2) if named else (5, 5))
    assert retried["matched"] == 2
    if named:  # as for ids that do not exist: not found in the failed registry
        assert retried["error_count"] == 2
        assert {e["job_id"] for e in retried["errors"]} == {"foreign", "orphan"}
    _left_alone(r, odd, mine_too=named)
    deleted = _operation(client, "admin-billing", "delete", selector)
    assert deleted["status"] == "succeeded" and deleted["acted"] == 0
    assert deleted["matched"] == (2 if named else 0)
    _left_alone(r, odd, mine_too=named)


def test_an_unrestricted_keys_operation_still_takes_every_job_to_its_origin(r, odd):
    retried = _operation(keyed_app_client(r), "operator-all", "retry", {"all": True})
    assert retried["acted"] == 4 and retried["error_count"] == 1  # the orphan
    assert queued_ids(r, "reports") == ["foreign"]
    assert failed_ids(r, QUEUE) == ["orphan"]


def test_a_failure_group_action_of_a_limited_key_takes_only_the_queues_own_jobs(r, odd):
    client = keyed_app_client(r)
    groups = client.get(f"/api/v1/jobs/failed/groups?queue={QUEUE}", headers=bearer("operator-billing"))
    assert groups.status_code == 200, groups.text
    for group in groups.json()["groups"]:
        answer = client.post(
            f"/api/v1/jobs/failed/groups/{group['group_id']}/retry?queue={QUEUE}",
            headers=bearer("operator-billing"),
        )
        assert answer.status_code in (200, 404), answer.text
    assert sorted(queued_ids(r, QUEUE)) == sorted(odd["mine"])
    _left_alone(r, odd)
