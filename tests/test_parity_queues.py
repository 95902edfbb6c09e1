"""Queues, queue job pages, workers and cleanup give the same values through REST and GraphQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Queue, Worker

from gateway.demo import jobs
from gateway.services.reads.browse import STATES
from tests.queue_transports import QueueGraphQL, QueueRest, walk
from tests.transports import GraphQLError


@pytest.fixture(params=[QueueRest, QueueGraphQL], ids=["rest", "graphql"])
def api(request, client):
    return request.param(client)


def populate(conn, factory):
    factory.failed(3)
    factory.finished()
    factory.failed(1, queue="reports")
    queue = Queue("default", connection=conn)
    queued = [queue.enqueue(jobs.add, i, i).id for i in range(3)]
    queue.enqueue_in(timedelta(hours=1), jobs.add, 1, 2)
    queue.enqueue(jobs.add, 3, 4, depends_on=queued[0])
    queue.enqueue(jobs.add, 5, 6).cancel()
    Worker([queue], name="parity-worker", connection=conn).register_birth()


def test_reads_match_between_transports(conn, client, factory):
    populate(conn, factory)
    rest, graphql = QueueRest(client), QueueGraphQL(client)
    rest_queues, graphql_queues = rest.queues(), graphql.queues()
    # Latency grows while the test runs: equal up to the time between the two reads.
    latencies = [
        (one.pop("latency_seconds"), other.pop("latency_seconds"))
        for one, other in zip(rest_queues, graphql_queues, strict=True)
    ]
    assert latencies[1] == (None, None)  # reports: empty queue
    assert abs(latencies[0][0] - latencies[0][1]) < 5
    assert rest_queues == graphql_queues
    assert [q["queue_name"] for q in rest_queues] == ["default", "reports"]
    assert rest.queue("reports") == graphql.queue("reports")
    assert rest.workers() == graphql.workers()
    assert [w["name"] for w in rest.workers()] == ["parity-worker"]
    for state in STATES:
        for order in ("asc", "desc"):
            assert walk(rest, "default", state, order) == walk(graphql, "default", state, order)
        assert rest.jobs_page("default", state, 1) == graphql.jobs_page("default", state, 1)
    assert walk(rest, "default", "failed")[0] == 3


def test_queue_failed_jobs_equal_the_failed_list(conn, client, factory):
    factory.failed(4)
    rest, graphql = QueueRest(client), QueueGraphQL(client)
    assert walk(rest, "default", "failed")[1] == rest.failed()
    assert walk(graphql, "default", "failed")[1] == graphql.failed()


def test_cleanup(api, conn, factory):
    failed = factory.failed(2)
    conn.zadd("rq:failed:default", {failed[0]: int(time.time()) - 100})
    outcome = api.cleanup("default")
    assert outcome == {
        "queue_name": "default",
        "total_removed": 1,
        "removed": {"started": 0, "finished": 0, "failed": 1, "deferred": 0, "scheduled": 0, "canceled": 0},
    }
    assert conn.zscore("rq:failed:default", failed[0]) is None


def test_unknown_queue_gives_the_same_error(client):
    rest = client.get("/api/v1/queues/nope")
    assert (rest.status_code, rest.json()) == (404, {"detail": "Queue 'nope' not found"})
    with pytest.raises(GraphQLError) as caught:
        QueueGraphQL(client).queue("nope")
    assert (caught.value.code, str(caught.value)) == ("NOT_FOUND", "Queue 'nope' not found")
    # A page of an unknown queue is the same 404, not an empty page that looks like an all-clear.
    page = client.get("/api/v1/queues/nope/jobs", params={"state": "failed"})
    assert (page.status_code, page.json()) == (404, {"detail": "Queue 'nope' not found"})


@pytest.mark.parametrize(
    ("params", "graphql_args"),
    [
        ({"state": "running"}, "state: RUNNING"),
        ({"order": "sideways"}, "order: SIDEWAYS"),
        ({"limit": 1001}, "first: 1001"),
        ({"limit": -1}, "first: -1"),
        ({"cursor": "bm9wZQ"}, 'after: "bm9wZQ"'),
    ],
)
def test_bad_input_is_422_and_bad_request(conn, client, params, graphql_args):
    conn.sadd("rq:queues", "rq:queue:default")
    rest = client.get("/api/v1/queues/default/jobs", params=params)
    assert rest.status_code == 422 and rest.json()["detail"]
    body = client.post(
        "/graphql",
        json={"query": f'{{ queue(name: "default") {{ jobs({graphql_args}) {{ totalCount }} }} }}'},
    )
    assert body.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_bad_queue_name(client):
    assert client.get("/api/v1/queues/bad%0Aname").status_code == 422
    assert client.post("/api/v1/queues/bad%0Aname/cleanup").status_code == 422
    body = client.post(
        "/graphql", json={"query": 'mutation { cleanupQueue(name: "bad\\u0000") { totalRemoved } }'}
    )
    assert body.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
