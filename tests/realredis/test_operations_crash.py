"""kill -9 of the CLI-started gateway in the middle of a tracked operation: another gateway
process (a second replica, already serving) takes it over once the dead runner's lease lapses,
and finishes exactly the rest. Every job ends in exactly one place and the counts add up, since
each chunk's action and its recorded progress are one Lua call (operation_chunk.lua).

N is 100,000 by default; RQ_GATEWAY_OPERATION_CRASH_JOBS=1000000 runs the issue's opt-in size:
    RQ_GATEWAY_OPERATION_CRASH_JOBS=1000000 python -m pytest tests/realredis/test_operations_crash.py
"""

from __future__ import annotations

import os
import time

import pytest
import requests

from bench.seed import seed_failed
from gateway.services.operations import store as stored

from .helpers import wait_until
from .processes import GatewayProcess, assert_clear_consistent, assert_retry_consistent

pytestmark = pytest.mark.e2e

N = int(os.environ.get("RQ_GATEWAY_OPERATION_CRASH_JOBS", "100000"))
# The bound on a takeover; the lease (10 s) and the resumer's poll (2 s) stay under it.
TAKEOVER_SECONDS = 30


def _crash_and_take_over(redis_server, r, tmp_path, action: str) -> tuple[dict, dict]:
    """(the jobs' places when the first gateway died, the operation as the second finished it)."""
    first = GatewayProcess(redis_server.url, tmp_path / "first.log").start()
    second = GatewayProcess(redis_server.url, tmp_path / "second.log").start()
    try:
        started = requests.post(
            f"{first.base}/api/v1/operations", json={"action": action, "selector": {"all": True}}, timeout=60
        )
        assert started.status_code == 202, started.text
        operation_id = started.json()["id"]
        key = stored.operation_key(operation_id)
        # Polled every millisecond: one chunk takes a few.
        wait_until(lambda: int(r.hget(key, "done") or 0) > 0, 60, "a first chunk", interval=0.001)
        first.kill9()
        killed_at = time.monotonic()
        done_at_kill = int(r.hget(key, "done"))
        assert done_at_kill < N, "not killed mid-operation"

        def moved_on():
            return int(r.hget(key, "done")) > done_at_kill or r.hget(key, "status") != b"running"

        wait_until(moved_on, TAKEOVER_SECONDS + 5, "another process to take the operation over", 0.05)
        assert time.monotonic() - killed_at <= TAKEOVER_SECONDS
        wait_until(lambda: r.hget(key, "status") != b"running", 300, "the operation to end", 0.1)
        body = requests.get(f"{second.base}/api/v1/operations/{operation_id}", timeout=10).json()
    finally:
        first.stop()
        second.stop()
    return {"done_at_kill": done_at_kill}, body


def test_kill9_mid_retry_operation_is_finished_by_another_process(redis_server, r, tmp_path):
    ids = seed_failed(r, redis_server.url, N, with_worker=20)
    interrupted, body = _crash_and_take_over(redis_server, r, tmp_path, "retry")
    assert 0 < interrupted["done_at_kill"] < N
    assert body["status"] == "succeeded", body
    assert (body["total"], body["done"], body["matched"], body["acted"], body["error_count"]) == (
        N,
        N,
        N,
        N,
        0,
    )
    assert assert_retry_consistent(r, ids) == {"queue": N, "failed": 0}
    assert r.llen("rq:queue:default") == N  # nothing pushed twice


def test_kill9_mid_delete_operation_is_finished_by_another_process(redis_server, r, tmp_path):
    ids = seed_failed(r, redis_server.url, N, with_worker=20)
    interrupted, body = _crash_and_take_over(redis_server, r, tmp_path, "delete")
    assert 0 < interrupted["done_at_kill"] < N
    assert body["status"] == "succeeded", body
    assert (body["total"], body["done"], body["matched"], body["acted"], body["error_count"]) == (
        N,
        N,
        N,
        N,
        0,
    )
    assert assert_clear_consistent(r, ids) == {"deleted": N, "failed": 0}
