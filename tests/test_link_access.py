"""A job's links to other jobs (its dependencies and dependents) name, for a queue-limited key,
only jobs it may see: a billing-* key reading a billing job that waits for a reports job (or holds
one up) learns no reports job id, on REST, GraphQL and the live `job` stream alike."""

from __future__ import annotations

import pytest
from rq import Queue

from gateway.demo import jobs
from tests.keyed import KEYS, gql, keyed_client
from tests.live_session import Session, connect

LINKS = "query($id: ID!) { job(id: $id) { dependencyIds dependentIds } }"
LIVE = "subscription($id: ID!) { job(id: $id, intervalMs: 500) { dependencyIds dependentIds } }"


@pytest.fixture
def linked(conn) -> dict[str, str]:
    """billing-eu's `waits` waits for reports' `blocker` and billing-eu's `mate`; reports' `held`
    waits for `waits`. A dependency since deleted stays named in RQ's hash: `gone`."""
    billing, reports = Queue("billing-eu", connection=conn), Queue("reports", connection=conn)
    blocker = reports.enqueue(jobs.add, 1, 2, job_id="blocker")
    mate = billing.enqueue(jobs.add, 3, 4, job_id="mate")
    gone = billing.enqueue(jobs.add, 5, 6, job_id="gone")
    waits = billing.enqueue(jobs.add, 7, 8, job_id="waits", depends_on=[blocker, mate, gone])
    reports.enqueue(jobs.add, 9, 10, job_id="held", depends_on=waits)
    billing.enqueue(jobs.add, 11, 12, job_id="held-here", depends_on=waits)
    conn.delete("rq:job:gone")
    return {"job": waits.id}


def _rest(conn, key: str, job_id: str) -> tuple[list[str], list[str]]:
    body = keyed_client(conn, key).get(f"/api/v1/jobs/status/{job_id}").json()
    return body["dependency_ids"], body["dependent_ids"]


def _graphql(conn, key: str, job_id: str) -> tuple[list[str], list[str]]:
    job = gql(keyed_client(conn, key), LINKS, id=job_id)["data"]["job"]
    return job["dependencyIds"], job["dependentIds"]


def _live(conn, key: str, job_id: str) -> tuple[list[str], list[str]]:
    with connect(keyed_client(conn)) as ws:
        live = Session(ws)
        live.init(KEYS[key])
        live.subscribe("1", LIVE, id=job_id)
        job = live.payload("1")["data"]["job"]
    return job["dependencyIds"], job["dependentIds"]


@pytest.mark.parametrize("read", [_rest, _graphql, _live])
def test_a_limited_key_sees_only_the_linked_jobs_of_its_queues(conn, linked, read):
    assert read(conn, "billing", linked["job"]) == (["mate"], ["held-here"])


@pytest.mark.parametrize("read", [_rest, _graphql, _live])
def test_an_unrestricted_key_sees_every_linked_job(conn, linked, read):
    dependencies, dependents = read(conn, "viewer", linked["job"])
    assert sorted(dependencies) == ["blocker", "gone", "mate"]
    assert dependents == ["held", "held-here"]
