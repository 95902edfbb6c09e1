"""The queue a job belongs to, as the access check of an operation addressed by job id needs it
(and a search of the rate-limited jobs, which span queues).

RQ writes the queue into the job hash's `origin` field. An empty or missing origin, one that is
not UTF-8, or a job key of another Redis type (damaged data) says nothing about the queue: the
queue is unknown, and never guessed (see access.authorise_job for what that allows).
"""

from __future__ import annotations

from collections.abc import Sequence
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


def origins_of(connection: Redis, refs: Sequence[str | bytes]) -> list[str | None]:
    """Each job's queue, as read_places reads it (None: unknown), in one round trip. A reference
    is a job id, or a registry member that is not UTF-8 (damaged data), as Entry.job_ref gives."""
    with connection.pipeline(transaction=False) as pipe:  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves shard_hint unannotated
        for ref in refs:
            pipe.hget(keys.job_key(ref) if isinstance(ref, str) else keys.JOB_PREFIX.encode() + ref, "origin")
        replies = damaged.execute(pipe)
    return [_queue_name(origin) for origin in replies]


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
