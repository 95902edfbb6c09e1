"""Every operation through REST and through GraphQL on the same data gives the same values."""

from __future__ import annotations

import pytest

from tests.transports import GraphQL, Rest


@pytest.fixture(params=[Rest, GraphQL], ids=["rest", "graphql"])
def api(request, client):
    return request.param(client)


def test_reads_match_between_transports(client, factory):
    failed = factory.failed(2) + factory.failed(1, queue="reports")
    finished, queued = factory.finished(), factory.queued()
    rest, graphql = Rest(client), GraphQL(client)
    for queue in (None, "reports"):
        assert rest.failed(queue) == graphql.failed(queue)
        assert rest.stats(queue) == graphql.stats(queue)
    for job_id in [*failed, finished, queued]:
        assert rest.status(job_id) == graphql.status(job_id)
    assert rest.status(finished)["result"] == 5


def test_retry_and_delete(api, factory, service):
    retried, deleted = factory.failed(2)
    assert api.retry(retried) == {
        "success": True,
        "job_id": retried,
        "message": f"Job {retried} has been requeued successfully",
    }
    assert api.delete(deleted) == {
        "success": True,
        "job_id": deleted,
        "message": f"Job {deleted} has been deleted successfully",
    }
    assert api.status(retried)["status"] == "queued"
    assert service.stats().failed_count == 0


def test_retry_all_and_clear(api, factory):
    ids = factory.failed(3)
    outcome = api.retry_all()
    assert outcome["success"] is True
    assert (outcome["total_failed"], outcome["requeued_count"], outcome["error_count"]) == (3, 3, 0)
    assert sorted(outcome["requeued_jobs"]) == sorted(ids)
    assert outcome["errors"] == []
    factory.failed(2, queue="reports")
    cleared = api.clear("reports")
    assert (cleared["total_failed"], cleared["deleted_count"], cleared["success"]) == (2, 2, True)
    assert api.stats("reports")["failed_count"] == 0


def test_same_error_message_in_both(client):
    rest = client.post("/api/v1/jobs/failed/nope/retry")
    assert rest.status_code == 404
    with pytest.raises(Exception) as caught:
        GraphQL(client).retry("nope")
    assert caught.value.errors[0]["message"] == rest.json()["detail"]
    assert caught.value.code == "NOT_FOUND"
