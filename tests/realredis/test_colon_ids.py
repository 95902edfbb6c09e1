"""Ids holding ':' are shown whole by every view. Only the started registry holds RQ's
"job_id:execution_id" members (RQ >= 2, StartedJobRegistry.parse_job_id); there, and only there,
every view shows the job id before the execution id."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .damage import FAR_FUTURE, failed_job
from .helpers import API

PART = r"[A-Za-z0-9_-]{1,8}"
COLON_IDS = st.lists(st.from_regex(rf"\A{PART}(:{PART}){{1,2}}\Z"), min_size=1, max_size=5, unique=True)
REGISTRIES = {
    "failed": "rq:failed:default",
    "finished": "rq:finished:default",
    "canceled": "rq:canceled:default",
}


def _job_with_id(r, member: str, status: str) -> None:
    """A job hash under an id RQ >= 2 would refuse (written by RQ < 2 or by hand)."""
    template = failed_job(r, "template")
    r.restore(f"rq:job:{member}", 0, r.dump(template))
    r.delete(template)
    r.hset(f"rq:job:{member}", "status", status)


def _graphql_ids(client, query: str, *path: str) -> list[str]:
    body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    data = body["data"]
    for step in path:
        data = data[step]
    return [node["id"] for node in data["nodes"]]


def _graphql_queues_ids(client, gql_state: str) -> list[str]:
    # first: 20, not 100: the cost rule counts an unbounded list of queues as 1000 (graphql/cost.py)
    query = f"{{ queues {{ queueName jobs(state: {gql_state}, first: 20) {{ nodes {{ id }} }} }} }}"
    body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    (default,) = [queue for queue in body["data"]["queues"] if queue["queueName"] == "default"]
    return [node["id"] for node in default["jobs"]["nodes"]]


def _rest_page_ids(client, state: str) -> list[str]:
    response = client.get("/api/v1/queues/default/jobs", params={"state": state})
    assert response.status_code == 200, response.text
    return [job["job_id"] for job in response.json()["jobs"]]


def _views(client, state: str) -> dict[str, list[str]]:
    """The ids of the default queue's `state` jobs, as every view lists them."""
    gql_state = state.upper()
    views = {
        "rest queue page": _rest_page_ids(client, state),
        "graphql queue jobs": _graphql_ids(
            client,
            f'{{ queue(name: "default") {{ jobs(state: {gql_state}, first: 100) {{ nodes {{ id }} }} }} }}',
            "queue",
            "jobs",
        ),
        "graphql queues": _graphql_queues_ids(client, gql_state),
    }
    if state == "failed":
        views["rest /failed"] = [job["job_id"] for job in client.get(f"{API}/failed").json()]
        views["rest /failed filtered"] = [
            job["job_id"] for job in client.get(f"{API}/failed", params={"exc_type": "ValueError"}).json()
        ]
        views["graphql failedJobs"] = _graphql_ids(
            client, "{ failedJobs(first: 100) { nodes { id } } }", "failedJobs"
        )
        views["graphql failedJobs filtered"] = _graphql_ids(
            client,
            '{ failedJobs(first: 100, filter: {excType: "ValueError"}) { nodes { id } } }',
            "failedJobs",
        )
    return views


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=COLON_IDS, state=st.sampled_from(sorted(REGISTRIES)))
def test_ids_with_colons_are_shown_whole_by_every_view(client, r, ids, state):
    r.flushall()
    r.sadd("rq:queues", "rq:queue:default")
    for index, member in enumerate(ids):
        _job_with_id(r, member, state)
        r.zadd(REGISTRIES[state], {member: FAR_FUTURE + index})

    views = _views(client, state)

    for name, shown in views.items():
        assert shown == ids, name


def test_a_failed_entry_legacy_1234_is_whole_in_rest_graphql_and_bulk_answers(client, r):
    r.sadd("rq:queues", "rq:queue:default")
    _job_with_id(r, "legacy:1234", "failed")
    r.zadd("rq:failed:default", {"legacy:1234": FAR_FUTURE})

    views = _views(client, "failed")
    groups = client.get(f"{API}/failed/groups").json()["groups"]
    dry = client.post(f"{API}/failed/retry-all", params={"dry_run": "true"}).json()

    assert all(shown == ["legacy:1234"] for shown in views.values()), views
    assert [group["sample_job_id"] for group in groups] == ["legacy:1234"]
    assert dry["requeued_jobs"] == ["legacy:1234"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(job_id=st.from_regex(rf"\A{PART}\Z"), execution=st.from_regex(rf"\A{PART}\Z"))
def test_started_members_show_the_job_id_in_every_view(client, r, job_id, execution):
    r.flushall()
    r.sadd("rq:queues", "rq:queue:default")
    _job_with_id(r, job_id, "started")
    r.hset(f"rq:job:{job_id}", "origin", "default")
    r.zadd("rq:wip:default", {f"{job_id}:{execution}": FAR_FUTURE})
    r.zadd(f"rq:executions:{job_id}", {execution: FAR_FUTURE})

    views = _views(client, "started")
    status = client.get(f"{API}/status/{job_id}").json()

    for name, shown in views.items():
        assert shown == [job_id], name
    assert (status["job_id"], status["location"]["registry"]) == (job_id, "started")
