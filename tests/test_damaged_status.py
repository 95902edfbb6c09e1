"""A job whose hash holds a status RQ never writes (damaged data) reads with one status in every
reader: its queue's or registry's list, its own page and search, whose `status:` finds it by that
status (README: `created`, or `failed` in the failed registry, as an orphan there)."""

from __future__ import annotations

import pytest


def _damage(conn, job_id: str) -> None:
    conn.hset(f"rq:job:{job_id}", "status", "weird")


@pytest.mark.parametrize(
    ("make", "listed_at", "expected"),
    [
        (lambda factory: factory.failed()[0], "/api/v1/jobs/failed", "failed"),
        (lambda factory: factory.finished(), "/api/v1/queues/default/jobs?state=finished", "created"),
        (lambda factory: factory.queued(), "/api/v1/queues/default/jobs", "created"),
    ],
    ids=["failed registry", "finished registry", "queue"],
)
def test_a_damaged_status_reads_the_same_in_the_list_the_page_and_search(
    client, conn, factory, make, listed_at, expected
):
    job_id = make(factory)
    _damage(conn, job_id)
    page = client.get(f"/api/v1/jobs/status/{job_id}").json()
    listed = client.get(listed_at).json()
    listed = listed if isinstance(listed, list) else listed.get("jobs", listed)
    [in_list] = [job for job in listed if job["job_id"] == job_id]
    [by_id] = client.get("/api/v1/search", params={"q": f"id:{job_id}"}).json()["jobs"]
    [by_status] = client.get("/api/v1/search", params={"q": f"status:{expected}"}).json()["jobs"]
    assert page["status"] == in_list["status"] == by_id["status"] == by_status["status"] == expected
    assert by_status["job_id"] == job_id
