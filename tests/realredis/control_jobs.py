"""Job functions for the worker-control tests, importable by the real `rq worker` (this directory
is on its PYTHONPATH)."""

from __future__ import annotations

from rq import get_current_job


def count_run(key: str) -> int:
    """Count this run in the Redis hash `key`, field = the job's id: a job run twice shows 2."""
    job = get_current_job()
    return int(job.connection.hincrby(key, job.id, 1))
