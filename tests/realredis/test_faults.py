"""Redis failing under the CLI-started gateway while it works: stopped in the middle of a bulk
operation (SHUTDOWN NOSAVE, kill -9) and frozen by DEBUG SLEEP. The answer is a prompt 503 /
SERVICE_UNAVAILABLE, no job is lost or duplicated (the server keeps an fsync-always AOF, so what
it acknowledged survives), and the same gateway process serves again once Redis is back.

test_outage.py covers the in-process app against a Redis that is already down or SIGSTOPped."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from bench.seed import seed_failed

from .helpers import API, wait_until
from .processes import DurableRedisServer, GatewayProcess, assert_clear_consistent, assert_retry_consistent

pytestmark = pytest.mark.e2e

# fsync-always makes every script call wait for the disk, so a bulk operation over 10k jobs (20 chunks)
# takes long enough to be stopped in the middle.
N = 10_000
REDIS_TIMEOUT = 0.5
UNAVAILABLE = "Redis is unavailable; try again shortly"
# One command's timeout, plus one reconnect attempt (connect timeout), plus scheduling margin on a
# busy 2-core machine. Far below "hanging".
BOUND = 2 * REDIS_TIMEOUT + 1.5 + 2.0


@pytest.fixture
def durable(redis_server_binary: str, tmp_path) -> Iterator[DurableRedisServer]:
    server = DurableRedisServer(redis_server_binary, tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gateway(durable: DurableRedisServer, tmp_path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(durable.url, tmp_path / "gateway.log", "--redis-timeout", str(REDIS_TIMEOUT))
    process.start()
    try:
        yield process
    finally:
        process.stop()
    assert "Traceback" not in process.output()


def _seed(server: DurableRedisServer, n: int) -> tuple[redis.Redis, list[str]]:
    """n failed jobs, seeded without per-write fsync (fast); fsync-always again for the test."""
    r = server.client()
    r.config_set("appendfsync", "no")
    ids = seed_failed(r, server.url, n)
    r.config_set("appendfsync", "always")
    return r, ids


def _timed(call) -> tuple[requests.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _assert_rest_unavailable(response: requests.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": UNAVAILABLE}
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < BOUND, f"503 took {elapsed:.2f}s"


def _assert_graphql_unavailable(response: requests.Response, elapsed: float) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("SERVICE_UNAVAILABLE", UNAVAILABLE)
    assert elapsed < BOUND, f"SERVICE_UNAVAILABLE took {elapsed:.2f}s"


def _recovers(gateway: GatewayProcess) -> None:
    """The same process (never restarted) answers /readyz 200 again."""
    pid = gateway.pid
    wait_until(
        lambda: requests.get(f"{gateway.base}/readyz", timeout=5).status_code == 200,
        30,
        "the gateway to see Redis again",
        interval=0.1,
    )
    assert gateway.pid == pid and gateway.process.poll() is None


def _in_background(call) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        outcome.append(_timed(call))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_redis_shutdown_mid_retry_all(durable, gateway):
    r, ids = _seed(durable, N)
    thread, outcome = _in_background(
        lambda: requests.post(f"{gateway.base}{API}/failed/retry-all", timeout=60)
    )
    wait_until(lambda: r.llen("rq:queue:default") > 0, 60, "retry-all to requeue a first chunk", 0.001)
    with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it exits
        r.shutdown(nosave=True)
    durable.process.wait(timeout=10)
    thread.join(timeout=60)

    _assert_rest_unavailable(*outcome[0])
    _assert_rest_unavailable(*_timed(lambda: requests.get(f"{gateway.base}{API}/stats", timeout=60)))
    assert requests.get(f"{gateway.base}/healthz", timeout=5).status_code == 200

    durable.start()  # same port, same directory: the AOF brings every acknowledged write back
    r = durable.client()
    interrupted = assert_retry_consistent(r, ids)
    assert 0 < interrupted["queue"] < N, f"not stopped mid-operation: {interrupted}"

    _recovers(gateway)
    body = requests.post(f"{gateway.base}{API}/failed/retry-all", timeout=60).json()
    assert body["requeued_count"] == body["total_failed"] == interrupted["failed"]
    assert assert_retry_consistent(r, ids) == {"queue": N, "failed": 0}


def test_redis_killed_mid_graphql_clear(durable, gateway):
    r, ids = _seed(durable, N)
    mutation = {"query": "mutation { clearFailedJobs { deletedCount } }"}
    thread, outcome = _in_background(
        lambda: requests.post(f"{gateway.base}/graphql", json=mutation, timeout=60)
    )
    wait_until(lambda: r.zcard("rq:failed:default") < N, 60, "clear to delete a first chunk", 0.001)
    durable.kill()
    thread.join(timeout=60)

    _assert_graphql_unavailable(*outcome[0])
    assert outcome[0][0].json()["data"] is None

    durable.start()
    r = durable.client()
    interrupted = assert_clear_consistent(r, ids)
    assert 0 < interrupted["deleted"] < N, f"not killed mid-operation: {interrupted}"

    _recovers(gateway)
    again = requests.post(f"{gateway.base}/graphql", json=mutation, timeout=60).json()
    assert again == {"data": {"clearFailedJobs": {"deletedCount": interrupted["failed"]}}}
    assert assert_clear_consistent(r, ids) == {"deleted": N, "failed": 0}


SLEEP_SECONDS = 6


def test_slow_redis_times_out_within_redis_timeout_and_healthz_stays_fast(durable, gateway):
    r, ids = _seed(durable, 50)
    base = gateway.base
    assert requests.get(f"{base}{API}/stats", timeout=5).json()["failed_count"] == 50

    # DEBUG SLEEP blocks the whole server: connections are accepted, nothing is answered.
    sleeper = durable.client(socket_timeout=SLEEP_SECONDS + 10)
    asleep = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", SLEEP_SECONDS))
    asleep.start()
    wait_until(lambda: _frozen(durable), 5, "redis-server to stop answering")
    frozen_at = time.monotonic()

    graphql = {"query": "{ queueStats { failedCount } failedJobs(first: 5) { totalCount } }"}
    rest_calls = [
        lambda: requests.get(f"{base}{API}/stats", timeout=30),
        lambda: requests.get(f"{base}{API}/failed", timeout=30),
        lambda: requests.get(f"{base}{API}/status/{ids[0]}", timeout=30),
        lambda: requests.post(f"{base}{API}/failed/retry-all", timeout=30),
        lambda: requests.post(f"{base}{API}/failed/{ids[1]}/retry", timeout=30),
    ] * 3
    with ThreadPoolExecutor(max_workers=20) as pool:
        rest = [pool.submit(_timed, call) for call in rest_calls]
        gql = [pool.submit(_timed, lambda: requests.post(f"{base}/graphql", json=graphql, timeout=30))] * 3
        health = []
        while not all(f.done() for f in rest + gql):
            health.append(_timed(lambda: requests.get(f"{base}/healthz", timeout=30)))
        for future in rest:
            _assert_rest_unavailable(*future.result())
        for future in gql:
            _assert_graphql_unavailable(*future.result())
    answered_at = time.monotonic()
    assert answered_at - frozen_at < SLEEP_SECONDS - 1, "the answers waited for Redis to wake up"
    assert health and all(response.status_code == 200 for response, _ in health)
    assert max(elapsed for _, elapsed in health) < 0.5, f"/healthz stalled: {max(e for _, e in health):.2f}s"

    asleep.join(timeout=SLEEP_SECONDS + 10)
    sleeper.close()
    _recovers(gateway)
    assert requests.get(f"{base}{API}/stats", timeout=5).status_code == 200
    # A retry sent before the timeout may have run inside Redis once it woke up: each job is
    # still in exactly one place, and a second retry-all finishes the work.
    requests.post(f"{base}{API}/failed/retry-all", timeout=30).raise_for_status()
    assert assert_retry_consistent(r, ids) == {"queue": 50, "failed": 0}


def _frozen(server: DurableRedisServer) -> bool:
    """True when PING gets no answer within 0.2 s (a raw socket: redis-py would retry)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
        sock.settimeout(0.2)
        sock.sendall(b"PING\r\n")
        try:
            return not sock.recv(16)
        except TimeoutError:
            return True
