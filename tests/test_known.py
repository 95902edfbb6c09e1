"""services/reads/known.py: a queue named explicitly that RQ does not know is a 404 `Queue 'nope' not
found` (GraphQL NOT_FOUND) in every operation that takes a queue, reads and mutations alike; a queue
RQ knows, even empty, and the default queue when no queue is named answer 200 with zeros. The check
rides on the read's own round trip (stats) or runs only when the answer is empty."""

from __future__ import annotations

import time

import fakeredis
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from rq import Queue, Worker

from gateway.app import create_app
from gateway.config import Settings
from gateway.errors import QueueNotFound
from gateway.services import JobService
from tests.keyed import API_KEYS, bearer

API = "/api/v1/jobs"
GROUP = "0123456789abcdef"
NOT_FOUND = {"detail": "Queue 'nope' not found"}

REST = [
    ("GET", f"{API}/failed", {}, None),
    ("GET", f"{API}/failed", {"exc_type": "ValueError"}, None),
    ("GET", f"{API}/stats", {}, None),
    ("POST", f"{API}/failed/retry-all", {}, None),
    ("POST", f"{API}/failed/retry-all", {"dry_run": "true"}, None),
    ("POST", f"{API}/failed/retry-all", {"exc_type": "ValueError"}, None),
    ("DELETE", f"{API}/failed/clear", {}, None),
    ("DELETE", f"{API}/failed/clear", {"dry_run": "true", "search": "x"}, None),
    ("GET", f"{API}/failed/groups", {}, None),
    ("POST", f"{API}/failed/groups/{GROUP}/retry", {}, None),
    ("DELETE", f"{API}/failed/groups/{GROUP}", {}, None),
    ("POST", f"{API}/failed/retry", {}, {"job_ids": ["abc"]}),
    ("POST", f"{API}/failed/delete", {}, {"job_ids": ["abc"]}),
]
QUEUE_PATHS = [
    ("GET", "/api/v1/queues/nope"),
    ("GET", "/api/v1/queues/nope/jobs?state=failed"),
    ("GET", "/api/v1/queues/nope/jobs"),
    ("POST", "/api/v1/queues/nope/cleanup"),
]
GRAPHQL = [
    '{ failedJobs(queue: "nope") { totalCount } }',
    '{ failedJobs(queue: "nope", filter: { excType: "ValueError" }) { totalCount } }',
    '{ queueStats(queue: "nope") { failedCount } }',
    '{ failureGroups(queue: "nope") { totalFailed } }',
    '{ queue(name: "nope") { queueName } }',
    'mutation { retryAllFailedJobs(queue: "nope") { requeuedCount } }',
    'mutation { retryAllFailedJobs(queue: "nope", dryRun: true) { requeuedCount } }',
    'mutation { clearFailedJobs(queue: "nope") { deletedCount } }',
    f'mutation {{ retryFailureGroup(groupId: "{GROUP}", queue: "nope") {{ matchedCount }} }}',
    f'mutation {{ deleteFailureGroup(groupId: "{GROUP}", queue: "nope") {{ matchedCount }} }}',
    'mutation { retryFailedJobs(ids: ["abc"], queue: "nope") { requeuedCount } }',
    'mutation { deleteFailedJobs(ids: ["abc"], queue: "nope") { deletedCount } }',
    'mutation { cleanupQueue(name: "nope") { totalRemoved } }',
]


@pytest.mark.parametrize(("method", "path", "params", "body"), REST)
def test_rest_operations_naming_an_unknown_queue_are_404(client, factory, method, path, params, body):
    factory.failed(1)  # the default queue exists and has a failed job: "nope" still does not
    response = client.request(method, path, params={**params, "queue": "nope"}, json=body)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize(("method", "path"), QUEUE_PATHS)
def test_queue_paths_naming_an_unknown_queue_are_404(client, method, path):
    response = client.request(method, path)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("query", GRAPHQL)
def test_graphql_fields_naming_an_unknown_queue_are_not_found(client, query):
    (error,) = client.post("/graphql", json={"query": query}).json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == ("Queue 'nope' not found", "NOT_FOUND")


def _known_but_empty(conn, how: str) -> None:
    if how == "in RQ's queues set":
        conn.sadd("rq:queues", "rq:queue:nope")
    elif how == "a listening worker":
        Worker([Queue("nope", connection=conn)], name="w", connection=conn).register_birth()
    elif how == "an expired registry entry":
        conn.zadd("rq:finished:nope", {"gone": time.time() - 100})


@pytest.mark.parametrize("how", ["in RQ's queues set", "a listening worker", "an expired registry entry"])
def test_a_known_empty_queue_answers_zeros_everywhere(conn, client, how):
    _known_but_empty(conn, how)
    assert client.get(f"{API}/stats", params={"queue": "nope"}).json()["failed_count"] == 0
    for method, path, params, body in REST:
        response = client.request(method, path, params={**params, "queue": "nope"}, json=body)
        if "/groups/" in path:  # no such group in a known queue: the group's own 404
            assert response.json()["detail"].startswith("Failure group"), (path, response.text)
        else:
            assert response.status_code == 200, (method, path, response.text)
    # Last: a cleanup removes an expired entry, and with it the only trace of such a queue.
    for method, path in QUEUE_PATHS:
        assert client.request(method, path).status_code == 200, path


def test_the_default_queue_without_a_queue_parameter_keeps_the_contracts_zeros(client):
    stats = client.get(f"{API}/stats")
    assert stats.status_code == 200
    assert stats.json()["queue_name"] == "default" and stats.json()["failed_count"] == 0
    assert client.get(f"{API}/failed").json() == []
    assert client.post(f"{API}/failed/retry-all").json()["total_failed"] == 0
    assert client.delete(f"{API}/failed/clear").json()["total_failed"] == 0
    body = client.post("/graphql", json={"query": "{ queueStats { failedCount } failedJobs { totalCount } }"})
    assert body.json() == {"data": {"queueStats": {"failedCount": 0}, "failedJobs": {"totalCount": 0}}}


def test_explicit_stats_decide_existence_in_their_one_round_trip(service, factory, round_trips):
    factory.failed(1, queue="billing")
    for queue in ("billing", "nope", None):
        round_trips.reset()
        try:
            service.stats(queue)
        except Exception:
            assert queue == "nope"
        assert round_trips.count == 1, queue
    round_trips.reset()
    service.stats()
    assert "SISMEMBER" not in round_trips.commands, "the default queue is never checked"


def test_a_non_empty_answer_costs_no_existence_check(service, factory, round_trips):
    factory.failed(2, queue="billing")
    round_trips.reset()
    service.list_failed("billing")
    service.queue_jobs("billing", "failed", 10)
    assert not {"SISMEMBER", "EXISTS"} & set(round_trips.commands), round_trips.commands


def test_a_mutation_on_an_unknown_queue_is_audited(conn):
    app = create_app(Settings(redis_url="redis://unused", api_keys=API_KEYS), connection=conn)
    client = TestClient(app)
    response = client.delete(f"{API}/failed/clear", params={"queue": "nope"}, headers=bearer("admin"))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    audit = client.get("/api/v1/audit", params={"limit": 1}, headers=bearer("admin")).json()
    (record,) = audit["entries"]
    assert (record["action"], record["queue"], record["outcome"]) == ("clear", "nope", "error")
    assert record["error"] == "QueueNotFound"


TRACES = {
    "queues set": lambda c: c.sadd("rq:queues", "rq:queue:q"),
    "queue": lambda c: c.rpush("rq:queue:q", "abc"),
    "worker": lambda c: c.sadd("rq:workers:q", "rq:worker:w"),
    **{
        f"{state} registry": (lambda key: lambda c: c.zadd(key, {"abc": 1}))(f"rq:{state}:q")
        for state in ("wip", "failed", "finished", "deferred", "scheduled", "canceled")
    },
    "another queue": lambda c: c.sadd("rq:queues", "rq:queue:q2"),
    "a job of another queue": lambda c: c.zadd("rq:failed:q2", {"abc": 1}),
}


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(sorted(TRACES))))
def test_every_operation_applies_the_same_rule(traces):
    """Stats (in its own pipeline), the queue view and the empty-answer check agree, for any mix of
    the queue's traces: known iff at least one trace of *this* queue exists."""
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    for trace in traces:
        TRACES[trace](conn)
    service = JobService(conn)
    expected = bool(traces - {"another queue", "a job of another queue"})
    for operation in (service.stats, service.queue, service.list_failed, service.failure_groups):
        try:
            operation("q")
            known = True
        except QueueNotFound:
            known = False
        assert known == expected, (operation.__name__, traces)


def test_a_job_read_by_id_checks_the_queue_it_names_as_every_read(conn, factory):
    """GET /jobs/status/{id} finds a job wherever it is; a `queue` given beside the id is checked
    as everywhere (404 unknown, 403 outside the key's patterns), not ignored."""
    (job_id,) = factory.failed(1)
    client = TestClient(create_app(Settings(redis_url="redis://unused"), connection=conn))
    assert client.get(f"{API}/status/{job_id}", params={"queue": "default"}).json()["job_id"] == job_id
    response = client.get(f"{API}/status/{job_id}", params={"queue": "nope"})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    limited = TestClient(create_app(Settings(redis_url="redis://unused", api_keys=API_KEYS), connection=conn))
    Queue("billing-eu", connection=conn).enqueue("x.y")
    response = limited.get(f"{API}/status/{job_id}", params={"queue": "default"}, headers=bearer("billing"))
    assert response.status_code == 403  # the queue named, before the job (also outside its patterns)
    assert "may not access queue 'default'" in response.json()["detail"]
