"""The queue a job belongs to, as the access check of an operation addressed by job id needs it.

RQ writes the queue into the job hash's `origin` field. An empty or missing origin, one that is
not UTF-8, or a job key of another Redis type (damaged data) says nothing about the queue: the
queue is unknown, and never guessed (see access.authorise_job for what that allows).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from gateway.services.domain.models import JobInfo
from gateway.services.redis import damaged, keys


@dataclass(frozen=True)
class JobPlace:
    job_id: str
    exists: bool  # something is stored under the job's key
    queue: str | None  # its origin; None when unknown


def read_places(connection: Redis, job_ids: list[str]) -> list[JobPlace]:
    """One round trip for any number of ids, in their order."""
    with connection.pipeline(transaction=False) as pipe:  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves shard_hint unannotated
        for job_id in job_ids:
            pipe.hget(keys.job_key(job_id), "origin")
            pipe.exists(keys.job_key(job_id))
        replies = damaged.execute(pipe)  # a job key of another type: no origin, so unknown
    return [
        JobPlace(job_id, bool(replies[2 * index + 1]), _queue_name(replies[2 * index]))
        for index, job_id in enumerate(job_ids)
    ]


def linked_ids(job: JobInfo) -> list[str]:
    """The ids a located job names besides its own: its dependencies, then its dependents."""
    return [*(job.dependency_ids or ()), *(job.dependent_ids or ())]


def _queue_name(origin: bytes | None) -> str | None:
    if not origin:
        return None
    try:
        return origin.decode()
    except UnicodeDecodeError:
        return None
