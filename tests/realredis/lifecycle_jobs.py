"""Job functions for the lifecycle tests, importable by the real `rq worker` (this directory is on
its PYTHONPATH)."""

from __future__ import annotations

import time

from rq import get_current_job


def wait_for_release(key: str, limit: float = 30.0) -> str:
    """Runs until `key` exists in Redis (bounded by `limit` seconds): a job the test can stop
    while it runs, and that finishes at once on a later run once the key is set."""
    connection = get_current_job().connection
    deadline = time.monotonic() + limit
    while not connection.exists(key):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key} was never set")
        time.sleep(0.05)  # poll interval inside the job; the deadline bounds it
    return "released"
