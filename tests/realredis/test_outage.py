"""Redis going away (stopped) or hanging (SIGSTOP) under a running gateway: every Redis-backed
answer is a prompt 503 with Retry-After, liveness stays 200, and the gateway recovers by itself."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs

from .helpers import API, RedisServer, start_redis_server, wait_until

BOUND_SECONDS = 10.0
UNAVAILABLE = "Redis is unavailable; try again shortly"
STATS_QUERY = "{ queueStats { queueName failedCount } }"


@pytest.fixture
def own_redis(redis_server_binary: str, tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test alone, which the test may stop, restart or freeze."""
    server = start_redis_server(redis_server_binary, tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gateway(own_redis: RedisServer) -> Iterator[TestClient]:
    app = create_app(Settings(redis_url=own_redis.url))
    try:
        yield TestClient(app)
    finally:
        app.state.service.connection.close()


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def assert_unavailable(response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": UNAVAILABLE}
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s"


def assert_graphql_unavailable(gateway: TestClient) -> None:
    response, elapsed = timed(lambda: gateway.post("/graphql", json={"query": STATS_QUERY}))
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s"
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == UNAVAILABLE


def wait_ready(gateway: TestClient, timeout: float = 15.0) -> None:
    wait_until(lambda: gateway.get("/readyz").status_code == 200, timeout, "GET /readyz == 200", interval=0.1)


def test_stopped_redis_gives_503_and_restart_is_picked_up_without_restarting_gateway(own_redis, gateway):
    connection = own_redis.client()
    Queue("default", connection=connection).enqueue(jobs.add, 1, 2)
    connection.close()
    assert gateway.get(f"{API}/stats").json()["queued_count"] == 1
    assert gateway.get("/readyz").status_code == 200

    own_redis.stop()

    assert_unavailable(*timed(lambda: gateway.get(f"{API}/stats")))
    ready, elapsed = timed(lambda: gateway.get("/readyz"))
    assert_unavailable(ready, elapsed)
    assert gateway.get("/healthz").status_code == 200
    assert gateway.get("/healthz").json() == {"status": "ok"}
    assert_unavailable(*timed(lambda: gateway.get(f"{API}/failed")))
    assert_unavailable(*timed(lambda: gateway.post(f"{API}/failed/retry-all")))
    assert_unavailable(*timed(lambda: gateway.get(f"{API}/status/some-job")))
    assert_graphql_unavailable(gateway)

    own_redis.start()  # same port, empty (no persistence)
    wait_ready(gateway)

    stats = gateway.get(f"{API}/stats")
    assert stats.status_code == 200
    assert stats.json()["queued_count"] == 0  # really the restarted, empty server
    connection = own_redis.client()
    Queue("default", connection=connection).enqueue(jobs.add, 3, 4)
    connection.close()
    assert gateway.get(f"{API}/stats").json()["queued_count"] == 1
    graphql = gateway.post("/graphql", json={"query": STATS_QUERY}).json()
    assert graphql == {"data": {"queueStats": {"queueName": "default", "failedCount": 0}}}


def test_frozen_redis_gives_503_within_bound(own_redis, gateway):
    assert gateway.get(f"{API}/stats").status_code == 200

    os.kill(own_redis.pid, signal.SIGSTOP)
    try:
        assert_unavailable(*timed(lambda: gateway.get(f"{API}/stats")))
        assert_unavailable(*timed(lambda: gateway.get("/readyz")))
        assert gateway.get("/healthz").status_code == 200
        assert_graphql_unavailable(gateway)
    finally:
        os.kill(own_redis.pid, signal.SIGCONT)

    wait_ready(gateway)
    assert gateway.get(f"{API}/stats").status_code == 200
