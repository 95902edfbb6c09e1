"""A job and where it is, read for a live stream: the one read its subscribers share.

Every subscriber of `subscription { job(id) }` sees the same read, each through its own key
(JobService.view_job), so the read carries what that check needs: the job's place (its origin,
as origins.read_places reads it for every check by job id), next to the job itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.domain.models import JobInfo
from gateway.services.reads.locate import fetch_located_job
from gateway.services.redis.origins import JobPlace, linked_ids, read_places


@dataclass(frozen=True)
class JobSighting:
    place: JobPlace
    job: JobInfo | None  # None when the key holds no readable job hash
    # Where each job it links to is (origins.linked_ids), for each subscriber's check of them.
    links: tuple[JobPlace, ...] = ()


def read_sighting(connection: Redis, job_id: str, serializer: Any, default_queue: str) -> JobSighting:
    """Two round trips: the place first, so a job deleted between them reads as gone, not as a
    job in no queue; a third for the places of the jobs it links to, when it links to any."""
    (place,) = read_places(connection, [job_id])
    job = fetch_located_job(connection, job_id, serializer, default_queue) if place.exists else None
    linked = linked_ids(job) if job is not None else []
    return JobSighting(place, job, tuple(read_places(connection, linked)) if linked else ())
