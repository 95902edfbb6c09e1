"""Job functions the real `rq worker` subprocesses import (tests/realredis is on their PYTHONPATH)."""

from __future__ import annotations

import time

from rq import get_current_job


def wait_for_release(key: str, timeout: float = 60.0) -> str:
    """Run until something is pushed onto the Redis list `key`, so a test controls exactly when
    this job, and the worker busy with it, finishes."""
    connection = get_current_job().connection
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if connection.blpop([key], timeout=1):
            return "released"
    raise TimeoutError(f"nobody pushed onto {key} within {timeout}s")
