"""The exception type of jobs failed by a real `rq worker` on a real redis-server, the way real
jobs fail: a child's traceback quoted in the message, a chained exception, `raise ... from`,
exception notes, and an ExceptionGroup from asyncio.TaskGroup. Every job quotes a
`ValueError: child crashed` traceback that it did not raise; every view must name what it raised,
and agree: REST and GraphQL filters, filtered bulk actions, and failure groups."""

from __future__ import annotations

import sys

import pytest
from rq import Queue

from .helpers import API, failed_ids, keyspace

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="add_note and asyncio.TaskGroup are Python 3.11+"
)

RUNTIME_JOBS = ("quote_child_traceback", "chained_exception", "raise_from", "exception_notes")
GRAPHQL_FILTER = "query($f: FailedJobFilter) { failedJobs(filter: $f) { totalCount nodes { id } } }"
GRAPHQL_GROUPS = "{ failureGroups { totalFailed groups { excType message count sampleJobId } } }"


@pytest.fixture
def failed(r, worker) -> dict[str, str]:
    """One job per way of failing, plus three TaskGroups (one ValueError, three ValueErrors, and
    a KeyError), all failed by one real burst worker. Returns {name: job id}."""
    q = Queue("default", connection=r)
    ids = {name: q.enqueue(f"traceback_jobs.{name}").id for name in RUNTIME_JOBS}
    ids["group_1"] = q.enqueue("traceback_jobs.task_group", "v1").id
    ids["group_3"] = q.enqueue("traceback_jobs.task_group", "a", "b", "c").id
    ids["group_key"] = q.enqueue("traceback_jobs.task_group", "k", exc_type="KeyError").id
    worker()
    assert sorted(failed_ids(r)) == sorted(ids.values())
    return ids


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(job["job_id"] for job in response.json())


def test_the_stored_tracebacks_quote_a_value_error_they_did_not_raise(client, failed):
    # What /status serves is what the worker stored: the raised exception, and a quoted one last
    # or after the raised one's frames, where the old last-line rule read the type.
    for name in RUNTIME_JOBS:
        exc_info = client.get(f"{API}/status/{failed[name]}").json()["exc_info"]
        assert "\nRuntimeError: " in exc_info and "ValueError: child crashed" in exc_info
        assert exc_info.rindex("ValueError: child crashed") > exc_info.index("\nRuntimeError: ")
    group = client.get(f"{API}/status/{failed['group_3']}").json()["exc_info"]
    assert "  | ExceptionGroup: unhandled errors in a TaskGroup (3 sub-exceptions)" in group


def test_rest_filters_name_the_raised_exception(client, failed):
    runtime = sorted(failed[name] for name in RUNTIME_JOBS)
    groups = sorted(failed[name] for name in ("group_1", "group_3", "group_key"))
    assert _ids(client.get(f"{API}/failed", params={"exc_type": "RuntimeError"})) == runtime
    assert _ids(client.get(f"{API}/failed", params={"exc_type": "ValueError"})) == []
    assert _ids(client.get(f"{API}/failed", params={"exc_type": "ExceptionGroup"})) == groups


def test_a_filtered_clear_on_the_quoted_type_deletes_nothing(client, r, failed):
    before = keyspace(r)
    dry = client.delete(f"{API}/failed/clear", params={"exc_type": "ValueError", "dry_run": "true"}).json()
    assert (dry["total_failed"], dry["deleted_count"], dry["deleted_jobs"]) == (0, 0, [])
    retry = client.post(f"{API}/failed/retry-all", params={"exc_type": "RuntimeError", "dry_run": "true"})
    assert sorted(retry.json()["requeued_jobs"]) == sorted(failed[name] for name in RUNTIME_JOBS)
    after = keyspace(r)
    after.pop(b"rq-gateway:audit", None)
    assert after == before, "a dry run wrote to Redis"

    real = client.delete(f"{API}/failed/clear", params={"exc_type": "ValueError"}).json()
    assert real["deleted_count"] == 0
    assert sorted(failed_ids(r)) == sorted(failed.values())


def test_graphql_filters_agree(client, failed):
    def matching(exc_type: str) -> list[str]:
        body = client.post(
            "/graphql", json={"query": GRAPHQL_FILTER, "variables": {"f": {"excType": exc_type}}}
        )
        data = body.json()["data"]["failedJobs"]
        assert data["totalCount"] == len(data["nodes"])
        return sorted(node["id"] for node in data["nodes"])

    assert matching("RuntimeError") == sorted(failed[name] for name in RUNTIME_JOBS)
    assert matching("ValueError") == []
    assert matching("ExceptionGroup") == sorted(failed[name] for name in ("group_1", "group_3", "group_key"))


def test_failure_groups_type_each_job_and_group_task_groups_by_their_leaf_types(client, failed):
    body = client.get(f"{API}/failed/groups").json()
    task_group = "ExceptionGroup: unhandled errors in a TaskGroup"
    assert sorted(
        (g["func_name"], g["exc_type"], g["message"], g["count"]) for g in body["groups"]
    ) == sorted(
        [
            ("traceback_jobs.quote_child_traceback", "RuntimeError", "RuntimeError: subprocess failed:", 1),
            (
                "traceback_jobs.chained_exception",
                "RuntimeError",
                "RuntimeError: import step failed; the child said:",
                1,
            ),
            ("traceback_jobs.raise_from", "RuntimeError", "RuntimeError: subprocess failed:", 1),
            ("traceback_jobs.exception_notes", "RuntimeError", "RuntimeError: disk full", 1),
            # One ValueError or three: one cause. A KeyError: another.
            ("traceback_jobs.task_group", "ExceptionGroup", f"{task_group} [ValueError]", 2),
            ("traceback_jobs.task_group", "ExceptionGroup", f"{task_group} [KeyError]", 1),
        ]
    )
    value_group = next(g for g in body["groups"] if g["message"] == f"{task_group} [ValueError]")
    dry = client.post(
        f"{API}/failed/groups/{value_group['group_id']}/retry", params={"dry_run": "true"}
    ).json()
    assert sorted(dry["requeued_jobs"]) == sorted([failed["group_1"], failed["group_3"]])

    graphql = client.post("/graphql", json={"query": GRAPHQL_GROUPS}).json()["data"]["failureGroups"]
    assert sorted((g["excType"], g["message"], g["count"]) for g in graphql["groups"]) == sorted(
        (g["exc_type"], g["message"], g["count"]) for g in body["groups"]
    )
