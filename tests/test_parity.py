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


def _mixed_failures(conn) -> dict[str, list[str]]:
    from rq import Queue

    from gateway.demo import jobs
    from tests.conftest import run_worker

    q = Queue("default", connection=conn)
    ids = {"parse": [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(2)]}
    ids["flaky"] = [q.enqueue(jobs.flaky_charge, i).id for i in range(2)]
    run_worker(conn)
    return ids


def test_filtered_lists_match_between_transports(client, conn):
    ids = _mixed_failures(conn)
    rest, graphql = Rest(client), GraphQL(client)
    for criteria in (
        {"func_name": "gateway.demo.jobs.flaky_charge"},
        {"exc_type": "ValueError"},
        {"search": "bad-1"},
        {"failed_after": "2000-01-01", "failed_before": "2100-01-01T00:00:00+02:00"},
    ):
        assert rest.failed_filtered(**criteria) == graphql.failed_filtered(**criteria)
    assert sorted(j["job_id"] for j in rest.failed_filtered(exc_type="ConnectionError")) == sorted(
        ids["flaky"]
    )


def test_filtered_dry_runs_then_real_runs(api, conn, service):
    ids = _mixed_failures(conn)
    dry = api.retry_all_filtered(dry_run=True, exc_type="ValueError")
    assert sorted(dry["requeued_jobs"]) == sorted(ids["parse"])
    assert service.stats().failed_count == 4  # nothing changed
    dry_clear = api.clear_filtered(dry_run=True, func_name="gateway.demo.jobs.flaky_charge")
    assert (dry_clear["deleted_count"], dry_clear["total_failed"]) == (2, 2)
    assert service.stats().failed_count == 4
    real = api.retry_all_filtered(exc_type="ValueError")
    assert sorted(real["requeued_jobs"]) == sorted(dry["requeued_jobs"])
    assert sorted(api.clear_filtered()["deleted_jobs"]) == sorted(ids["flaky"])


def test_selective_bulk(api, factory, service):
    a, b, c = factory.failed(3)
    retried = api.retry_selected([a, b, a, "gone"])
    assert (retried["requeued_jobs"], retried["requeued_count"], retried["success"]) == ([a, b], 2, False)
    assert retried["errors"] == [{"job_id": "gone", "error": "Job gone not found in failed jobs registry"}]
    deleted = api.delete_selected([c, a])
    assert deleted["deleted_jobs"] == [c]
    assert deleted["errors"] == [{"job_id": a, "error": f"Job {a} not found in failed jobs registry"}]
    assert service.stats().failed_count == 0


def test_cancel_and_requeue(api, factory):
    job_id = factory.queued()
    assert api.cancel(job_id) == {
        "success": True,
        "job_id": job_id,
        "message": f"Job {job_id} has been canceled successfully",
    }
    assert api.status(job_id)["location"] == {"queue": "default", "registry": "canceled"}
    assert api.requeue(job_id)["message"] == f"Job {job_id} has been requeued successfully"
    assert api.status(job_id)["status"] == "queued"


def test_conflict_and_bad_filter_errors_match(client, factory):
    finished = factory.finished()
    rest = client.post(f"/api/v1/jobs/{finished}/cancel")
    assert rest.status_code == 409
    with pytest.raises(Exception) as caught:
        GraphQL(client).cancel(finished)
    assert (caught.value.code, caught.value.errors[0]["message"]) == ("CONFLICT", rest.json()["detail"])
    bad = client.get("/api/v1/jobs/failed", params={"failed_after": "last night"})
    assert bad.status_code == 422
    with pytest.raises(Exception) as caught:
        GraphQL(client).failed_filtered(failed_after="last night")
    # The same message, naming the argument as each transport names it.
    graphql_detail = bad.json()["detail"].replace("failed_after", "failedAfter")
    assert (caught.value.code, caught.value.errors[0]["message"]) == ("BAD_REQUEST", graphql_detail)
    too_many = client.post("/api/v1/jobs/failed/retry", json={"job_ids": ["a"] * 1001})
    assert too_many.status_code == 422
    with pytest.raises(Exception) as caught:
        GraphQL(client).retry_selected(["a"] * 1001)
    assert caught.value.code == "BAD_REQUEST"
