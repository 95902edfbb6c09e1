"""Job functions for the worker-control tests, importable by the real `rq worker` (this directory
is on its PYTHONPATH)."""

from __future__ import annotations

from rq import get_current_job


def count_run(key: str) -> int:
    """Count this run in the Redis hash `key`, field = the job's id: a job run twice shows 2."""
    job = get_current_job()
    return int(job.connection.hincrby(key, job.id, 1))


CALLBACKS = "rq-gateway:test:callbacks"


def note_success(job, connection, result, *args, **kwargs) -> None:
    """An on_success callback: records that it ran for this job."""
    connection.hset(CALLBACKS, job.id, "success")


def note_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """An on_failure callback: records that it ran for this job."""
    connection.hset(CALLBACKS, job.id, "failure:" + exc_type.__name__)


def fail(message: str) -> None:
    raise RuntimeError(message)
