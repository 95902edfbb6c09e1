"""Filters, dry runs and selective bulk actions on a real Redis, with jobs failed by a real
`rq worker`: three functions and three exception types, failed in two batches."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from rq import Queue

from gateway.demo import jobs

from .helpers import API, failed_ids, keyspace, queued_ids
from .test_concurrency import clone_failed_job, race

PARSE, FLAKY = "gateway.demo.jobs.parse_report", "gateway.demo.jobs.flaky_charge"


@pytest.fixture
def batches(r, worker):
    """Batch 1 fails before `between`, batch 2 after: ValueError (parse_report), ConnectionError
    (flaky_charge, which succeeds on retry) and TypeError (add('a', 1))."""
    q = Queue("default", connection=r)
    first = {
        "parse": [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(2)],
        "flaky": [q.enqueue(jobs.flaky_charge, 100).id],
    }
    worker()
    between = datetime.now(timezone.utc)
    second = {
        "flaky": [q.enqueue(jobs.flaky_charge, 200 + i).id for i in range(2)],
        "add": [q.enqueue(jobs.add, "a", 1).id],
    }
    worker()
    assert len(failed_ids(r)) == 6
    return first, second, between


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(job["job_id"] for job in response.json())


def test_each_criterion_through_rest(client, batches):
    first, second, between = batches
    get = lambda **params: _ids(client.get(f"{API}/failed", params=params))  # noqa: E731
    assert get(func_name=FLAKY) == sorted(first["flaky"] + second["flaky"])
    assert get(exc_type="TypeError") == second["add"]
    assert get(exc_type="ConnectionError", func_name=PARSE) == []
    assert get(search="bad-1") == [first["parse"][1]]
    after = between.strftime("%Y-%m-%dT%H:%M:%S.%f")  # naive: UTC
    assert get(failed_after=after) == sorted(second["flaky"] + second["add"])
    assert get(failed_before=between.isoformat()) == sorted(first["parse"] + first["flaky"])
    in_paris = between.astimezone().isoformat()
    assert get(failed_after=in_paris, exc_type="ConnectionError") == sorted(second["flaky"])
    assert (
        get(failed_after=after, limit=1, offset=1)
        == [j["job_id"] for j in client.get(f"{API}/failed", params={"failed_after": after}).json()][1:2]
    )
    bad = client.get(f"{API}/failed", params={"failed_before": "2024-02-30"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("Invalid failed_before '2024-02-30'")


def test_graphql_filter_pages_with_stable_cursors_while_matches_are_retried(client, r, batches):
    first, second, _ = batches
    query = (
        "query($after: String, $f: FailedJobFilter) { failedJobs(first: 1, after: $after, filter: $f) "
        "{ totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"
    )
    seen, after = [], None
    while True:
        page = client.post(
            "/graphql", json={"query": query, "variables": {"after": after, "f": {"funcName": FLAKY}}}
        ).json()
        connection = page["data"]["failedJobs"]
        seen += [node["id"] for node in connection["nodes"]]
        if seen and len(seen) == 1:
            assert connection["totalCount"] == 3
            # The page we just read is retried: the next page still starts right after it.
            assert client.post(f"{API}/failed/{seen[0]}/retry").status_code == 200
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(first["flaky"] + second["flaky"])
    assert len(seen) == len(set(seen))


def test_dry_runs_change_no_key_and_predict_the_real_run(client, r, batches):
    first, _, between = batches
    orphan = first["parse"][0]
    r.delete(f"rq:job:{orphan}")
    before = keyspace(r)
    params = {"failed_before": between.isoformat(), "dry_run": "true"}
    dry_retry = client.post(f"{API}/failed/retry-all", params=params).json()
    dry_clear = client.delete(f"{API}/failed/clear", params={**params, "exc_type": "ValueError"}).json()
    dry_all = client.post(f"{API}/failed/retry-all", params={"dry_run": "true"}).json()
    gql = client.post(
        "/graphql",
        json={"query": "mutation { clearFailedJobs(dryRun: true) { deletedCount } }"},
    ).json()
    # Only the audit trail grew: a dry run is audited (as ACTION.dry_run), and changes no job data.
    after = keyspace(r)
    assert after.pop(b"rq-gateway:audit") and r.xlen("rq-gateway:audit") == 4
    assert after == before, "a dry run wrote to Redis"
    assert gql["data"]["clearFailedJobs"]["deletedCount"] == 6
    # An orphan has no failure time left, so a date filter never selects it; without a filter
    # it is reported as the real retry-all would report it.
    assert dry_retry["errors"] == []
    assert sorted(dry_retry["requeued_jobs"]) == sorted(first["parse"][1:] + first["flaky"])
    assert dry_clear["deleted_jobs"] == [first["parse"][1]]
    assert dry_all["errors"] == [
        {
            "job_id": orphan,
            "error": "Job data is gone (expired or deleted); it cannot be retried, only deleted",
        }
    ]
    assert (dry_all["total_failed"], dry_all["requeued_count"], dry_all["error_count"]) == (6, 5, 1)

    real = client.post(f"{API}/failed/retry-all").json()
    assert real == dry_all
    assert sorted(queued_ids(r)) == sorted(dry_all["requeued_jobs"])


def test_filtered_retry_all_racing_itself_enqueues_each_match_once(app, r, fail_jobs, worker):
    (source,) = fail_jobs(1)
    matching = {source, *clone_failed_job(r, source, 1999)}
    other = Queue("default", connection=r).enqueue(jobs.add, "a", 1).id
    worker()
    path = f"{API}/failed/retry-all?exc_type=ValueError"

    (one, _, _), (two, _, _) = race(app, [("POST", path), ("POST", path)])

    requeued = [set(response.json()["requeued_jobs"]) for response in (one, two)]
    assert not requeued[0] & requeued[1]
    assert requeued[0] | requeued[1] == matching
    counts = Counter(queued_ids(r))
    assert set(counts) == matching and max(counts.values()) == 1
    assert failed_ids(r) == [other]


def test_selected_retry_runs_on_a_real_worker_and_selected_delete_removes_everything(
    client, r, worker, batches
):
    first, second, _ = batches
    flaky = first["flaky"] + second["flaky"]
    body = client.post(f"{API}/failed/retry", json={"job_ids": [*flaky, flaky[0], "not-failed"]}).json()
    assert body["requeued_jobs"] == flaky
    assert body["errors"] == [
        {"job_id": "not-failed", "error": "Job not-failed not found in failed jobs registry"}
    ]
    worker()
    for job_id in flaky:
        status = client.get(f"{API}/status/{job_id}").json()
        assert (status["status"], status["location"]["registry"]) == ("finished", "finished")

    doomed = first["parse"]
    deleted = client.post(f"{API}/failed/delete", json={"job_ids": doomed}).json()
    assert (deleted["deleted_jobs"], deleted["success"]) == (doomed, True)
    for job_id in doomed:
        assert r.exists(f"rq:job:{job_id}", f"rq:results:{job_id}") == 0
    assert failed_ids(r) == second["add"]
