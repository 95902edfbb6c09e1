"""kill -9 of the CLI-started gateway in the middle of a retry-all and of a clear over many failed
jobs: afterwards every job is in exactly one place, and running the operation again finishes it.

N is 20,000 by default (a few seconds); RQ_GATEWAY_CRASH_JOBS=100000 runs the issue's full size:
    RQ_GATEWAY_CRASH_JOBS=100000 python -m pytest tests/realredis/test_crash.py
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
import requests

from bench.seed import seed_failed

from .helpers import API, RedisServer, wait_until
from .processes import GatewayProcess, assert_clear_consistent, assert_retry_consistent

pytestmark = pytest.mark.e2e

N = int(os.environ.get("RQ_GATEWAY_CRASH_JOBS", "20000"))


@pytest.fixture
def gateway(redis_server: RedisServer, tmp_path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(redis_server.url, tmp_path / "gateway.log").start()
    try:
        yield process
    finally:
        process.stop()


def _in_background(method: str, url: str) -> tuple[threading.Thread, list]:
    """Send one request from a thread; the list receives its response or exception."""
    outcome: list = []

    def send() -> None:
        try:
            outcome.append(requests.request(method, url, timeout=300))
        except requests.RequestException as error:
            outcome.append(error)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, outcome


def _kill_when(gateway: GatewayProcess, started, what: str) -> None:
    # Polled every millisecond: each chunk of 500 ids takes several ms inside Redis.
    wait_until(started, 60, what, interval=0.001)
    gateway.kill9()


def test_kill9_mid_retry_all_loses_and_duplicates_nothing(redis_server, r, gateway, tmp_path):
    ids = seed_failed(r, redis_server.url, N, with_worker=20)
    thread, outcome = _in_background("POST", f"{gateway.base}{API}/failed/retry-all")

    _kill_when(gateway, lambda: r.llen("rq:queue:default") > 0, "retry-all to requeue its first chunk")
    thread.join(timeout=30)
    assert isinstance(outcome[0], requests.ConnectionError), outcome  # no answer from a dead process

    interrupted = assert_retry_consistent(r, ids)
    assert 0 < interrupted["queue"] < N, f"not killed mid-operation: {interrupted}"

    restarted = GatewayProcess(redis_server.url, tmp_path / "restarted.log").start()
    try:
        body = requests.post(f"{restarted.base}{API}/failed/retry-all", timeout=300).json()
    finally:
        restarted.stop()
    assert (body["success"], body["error_count"]) == (True, 0)
    assert body["total_failed"] == body["requeued_count"] == interrupted["failed"]
    assert assert_retry_consistent(r, ids) == {"queue": N, "failed": 0}
    assert r.llen("rq:queue:default") == N  # nothing else was pushed, nothing twice


def test_kill9_mid_clear_leaves_each_job_deleted_or_whole(redis_server, r, gateway, tmp_path):
    ids = seed_failed(r, redis_server.url, N, with_worker=20)
    thread, outcome = _in_background("DELETE", f"{gateway.base}{API}/failed/clear")

    _kill_when(gateway, lambda: r.zcard("rq:failed:default") < N, "clear to delete its first chunk")
    thread.join(timeout=30)
    assert isinstance(outcome[0], requests.ConnectionError), outcome

    interrupted = assert_clear_consistent(r, ids)
    assert 0 < interrupted["deleted"] < N, f"not killed mid-operation: {interrupted}"

    restarted = GatewayProcess(redis_server.url, tmp_path / "restarted.log").start()
    try:
        body = requests.delete(f"{restarted.base}{API}/failed/clear", timeout=300).json()
    finally:
        restarted.stop()
    assert (body["success"], body["error_count"]) == (True, 0)
    assert body["total_failed"] == body["deleted_count"] == interrupted["failed"]
    assert assert_clear_consistent(r, ids) == {"deleted": N, "failed": 0}
    assert not list(r.scan_iter("rq:job:*")) and not list(r.scan_iter("rq:results:*"))
