"""GraphQL at /graphql answers with the same values as REST on the same real-Redis data; errors carry
the REST detail as their message and a code in extensions."""

from __future__ import annotations

import re

from rq import Queue

from gateway.demo import jobs

from .helpers import API, failed_ids, queued_ids, restore, snapshot

JOB_FIELDS = (
    "id status funcName args kwargs createdAt enqueuedAt startedAt endedAt result excInfo origin "
    "description isFinished isFailed isStarted isQueued"
)
STATS_FIELDS = (
    "queueName queuedCount failedCount startedCount finishedCount deferredCount scheduledCount canceledCount"
)


def camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def as_graphql(rest: dict) -> dict:
    """A REST object with GraphQL's names: camelCase keys, `id` for job_id, upper-case status."""
    out = {}
    for key, value in rest.items():
        if key == "job_id" and "status" in rest:
            out["id"] = value
        elif key == "status":
            out["status"] = value.upper()
        elif key == "errors":
            out["errors"] = [{"jobId": e["job_id"], "error": e["error"]} for e in value]
        else:
            out[camel(key)] = value
    return out


def gql(client, query: str, **variables) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def data(client, query: str, **variables) -> dict:
    body = gql(client, query, **variables)
    assert "errors" not in body, body
    return body["data"]


def test_failed_jobs_match_rest_list_field_by_field(client, r, fail_jobs):
    fail_jobs(4)
    fail_jobs(2, queue="other")
    orphan = failed_ids(r)[1]
    r.delete(f"rq:job:{orphan}")
    nodes = {}

    for queue in ("default", "other"):
        rest = client.get(f"{API}/failed", params={"queue": queue}).json()
        connection = data(
            client,
            "query($q: String) { failedJobs(queue: $q, first: 100) { totalCount nodes { "
            + JOB_FIELDS
            + " } } }",
            q=queue,
        )["failedJobs"]
        assert connection["nodes"] == [as_graphql(job) for job in rest]
        assert (
            connection["totalCount"]
            == len(rest)
            == client.get(f"{API}/stats", params={"queue": queue}).json()["failed_count"]
        )
        nodes[queue] = connection["nodes"]
    assert [len(nodes["default"]), len(nodes["other"])] == [4, 2]
    orphan_node = nodes["default"][1]
    assert (orphan_node["id"], orphan_node["status"], orphan_node["funcName"]) == (orphan, "FAILED", None)
    assert nodes["default"][0]["excInfo"].startswith("Traceback")


def test_failed_jobs_cursor_pages_match_rest_offset_pages(client, r, fail_jobs):
    fail_jobs(5)
    rest = [job["job_id"] for job in client.get(f"{API}/failed").json()]
    query = (
        "query($after: String) { failedJobs(first: 2, after: $after) "
        "{ nodes { id } pageInfo { hasNextPage endCursor } } }"
    )

    pages, after = [], None
    while True:
        page = data(client, query, after=after)["failedJobs"]
        pages.append([node["id"] for node in page["nodes"]])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == [rest[0:2], rest[2:4], rest[4:5]]
    for offset in (0, 2, 4):
        sliced = client.get(f"{API}/failed", params={"offset": offset, "limit": 2}).json()
        assert [job["job_id"] for job in sliced] == pages[offset // 2]


def test_job_matches_rest_status_for_finished_failed_and_queued(client, r, worker):
    q = Queue("default", connection=r)
    ids = [q.enqueue(jobs.add, 2, 3).id, q.enqueue(jobs.parse_report, "garbled").id]
    worker()
    ids.append(q.enqueue(jobs.simulate_replicated_trade, 5).id)
    statuses = []
    for job_id in ids:
        rest = client.get(f"{API}/status/{job_id}").json()
        fields = f"{JOB_FIELDS} location {{ queue registry }} dependencyIds dependentIds"
        job = data(client, f"query($id: ID!) {{ job(id: $id) {{ {fields} }} }}", id=job_id)["job"]
        assert job == as_graphql(rest)
        statuses.append(job["status"])
    assert statuses == ["FINISHED", "FAILED", "QUEUED"]


def test_queue_stats_match_rest(client, r, fail_jobs):
    fail_jobs(2)
    Queue("default", connection=r).enqueue(jobs.add, 1, 1)
    r.sadd("rq:queues", "rq:queue:other")  # known to RQ, and empty
    for queue in ("default", "other"):
        rest = client.get(f"{API}/stats", params={"queue": queue}).json()
        stats = data(client, f"query($q: String) {{ queueStats(queue: $q) {{ {STATS_FIELDS} }} }}", q=queue)
        assert stats["queueStats"] == as_graphql(rest)
    assert rest["queue_name"] == "other"
    unknown = client.get(f"{API}/stats", params={"queue": "nope"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Queue 'nope' not found"})
    body = client.post("/graphql", json={"query": '{ queueStats(queue: "nope") { failedCount } }'}).json()
    (error,) = body["errors"]
    assert (error["message"], error["extensions"]["code"]) == (unknown.json()["detail"], "NOT_FOUND")


def _state(r) -> dict:
    return {
        "failed": failed_ids(r),
        "queued": queued_ids(r),
        "jobs": sorted(k.decode() for k in r.scan_iter("rq:job:*")),
        "results": sorted(k.decode() for k in r.scan_iter("rq:results:*")),
        "statuses": sorted((k.decode(), r.hget(k, "status")) for k in r.scan_iter("rq:job:*")),
    }


def _compare_on_same_data(client, r, rest_call, query: str, field: str, **variables) -> dict:
    """Run the REST call and the GraphQL mutation on identical Redis contents; both the answers
    and the Redis state they leave behind must match."""
    before = snapshot(r)
    rest = rest_call()
    assert rest.status_code == 200, rest.text
    rest_state = _state(r)
    restore(r, before)
    graphql = data(client, query, **variables)[field]
    assert graphql == as_graphql(rest.json())
    assert _state(r) == rest_state
    return graphql


def test_mutations_match_rest_on_the_same_data(client, r, fail_jobs):
    ids = fail_jobs(4)
    orphan = ids[2]
    r.delete(f"rq:job:{orphan}")
    target = ids[0]

    retried = _compare_on_same_data(
        client,
        r,
        lambda: client.post(f"{API}/failed/{target}/retry"),
        "mutation($id: ID!) { retryFailedJob(id: $id) { success jobId message } }",
        "retryFailedJob",
        id=target,
    )
    assert retried["jobId"] == target and retried["success"] is True
    assert queued_ids(r) == [target]

    deleted = _compare_on_same_data(
        client,
        r,
        lambda: client.delete(f"{API}/failed/{ids[1]}"),
        "mutation($id: ID!) { deleteFailedJob(id: $id) { success jobId message } }",
        "deleteFailedJob",
        id=ids[1],
    )
    assert deleted["message"] == f"Job {ids[1]} has been deleted successfully"
    assert r.exists(f"rq:job:{ids[1]}") == 0

    retried_all = _compare_on_same_data(
        client,
        r,
        lambda: client.post(f"{API}/failed/retry-all"),
        "mutation { retryAllFailedJobs { success totalFailed requeuedCount errorCount requeuedJobs "
        "errors { jobId error } } }",
        "retryAllFailedJobs",
    )
    assert retried_all["requeuedJobs"] == [ids[3]]
    assert [e["jobId"] for e in retried_all["errors"]] == [orphan]
    assert retried_all["success"] is False

    new = fail_jobs(2)  # this worker run also fails the two requeued jobs again
    expected = sorted([orphan, target, ids[3], *new])
    assert sorted(failed_ids(r)) == expected
    cleared = _compare_on_same_data(
        client,
        r,
        lambda: client.delete(f"{API}/failed/clear"),
        "mutation { clearFailedJobs { success totalFailed deletedCount errorCount deletedJobs "
        "errors { jobId error } } }",
        "clearFailedJobs",
    )
    assert cleared["deletedCount"] == 5
    assert sorted(cleared["deletedJobs"]) == expected
    assert failed_ids(r) == []


def test_not_found_is_null_job_with_not_found_code_and_rest_detail(client, r, fail_jobs):
    (orphan,) = fail_jobs(1)
    r.delete(f"rq:job:{orphan}")
    cases = [
        (f"{API}/status/no-such-job", "get", 'query { job(id: "no-such-job") { id } }', {"job": None}),
        (
            f"{API}/failed/no-such-job/retry",
            "post",
            'mutation { retryFailedJob(id: "no-such-job") { jobId } }',
            None,
        ),
        (
            f"{API}/failed/no-such-job",
            "delete",
            'mutation { deleteFailedJob(id: "no-such-job") { jobId } }',
            None,
        ),
        (
            f"{API}/failed/{orphan}/retry",
            "post",
            f'mutation {{ retryFailedJob(id: "{orphan}") {{ jobId }} }}',
            None,
        ),
    ]
    for path, method, query, expected_data in cases:
        rest = getattr(client, method)(path)
        assert rest.status_code == 404
        body = gql(client, query)
        assert body["data"] == expected_data
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert error["message"] == rest.json()["detail"]
    assert "data is gone" in error["message"]


def test_invalid_id_is_bad_request_with_rest_detail(client):
    rest = client.get(f"{API}/status/bad:x")
    assert rest.status_code == 422

    for query in ('query { job(id: "bad:x") { id } }', 'mutation { retryFailedJob(id: "bad:x") { jobId } }'):
        body = gql(client, query)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert error["message"] == rest.json()["detail"]
