"""Job functions for the demo and for `docker compose`'s worker.

They follow the contract's retry advice: they are idempotent, and a job that already did its
work detects it and skips, so retrying is always safe.
"""

from __future__ import annotations

import time

from redis import Redis
from rq import get_current_job

_DONE_KEY = "rq-gateway:demo:replicated-trades"
_ATTEMPTS_KEY = "rq-gateway:demo:attempts"


def _current_connection() -> Redis:
    """The Redis of the job running now: these functions only ever run inside an RQ worker."""
    job = get_current_job()
    assert job is not None, "called outside an RQ worker"
    return job.connection


def add(x: int, y: int) -> int:
    return x + y


def simulate_replicated_trade(trade_id: int) -> str:
    """Replicates a trade once: a retry of a trade that was already replicated skips the work."""
    connection = _current_connection()
    if not connection.sadd(_DONE_KEY, trade_id):
        return f"trade {trade_id} already replicated, skipped"
    return f"trade {trade_id} replicated"


def flaky_charge(order_id: int) -> str:
    """Fails on its first attempt (a transient upstream error), then succeeds: retry it to see."""
    connection = _current_connection()
    if connection.hincrby(_ATTEMPTS_KEY, f"charge:{order_id}", 1) == 1:
        raise ConnectionError(f"payment provider timed out for order {order_id}")
    return f"order {order_id} charged"


def parse_report(report: str) -> dict:
    """Always fails for a malformed report: a permanent error, best inspected, then deleted."""
    if not report.startswith("report:"):
        raise ValueError(f"malformed report header in {report!r}")
    return {"report": report, "rows": len(report)}


def slow_task(seconds: float = 1.0) -> float:
    time.sleep(seconds)
    return seconds


_FAILURES = {"KeyError": KeyError, "TimeoutError": TimeoutError, "ValueError": ValueError}


def fail_with(exception: str, message: str) -> None:
    """Always fails with the named exception (KeyError, TimeoutError or ValueError) and message:
    failures of a chosen cause, for failure groups in the demo and the tests."""
    raise _FAILURES[exception](message)
