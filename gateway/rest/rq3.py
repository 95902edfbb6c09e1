"""RQ 3's rate limits and job groups (issue 15), read-only: GET /api/v1/rate-limits,
GET /api/v1/job-groups and GET /api/v1/job-groups/{name}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gateway.errors import BackendUnavailable, InvalidInput, NotFound
from gateway.rest import models
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.services import DOCUMENTED_QUEUE_NAME_PATTERN

router = APIRouter(prefix="/api/v1", tags=["rq3"])


@router.get(
    "/rate-limits",
    response_model=models.RateLimits,
    responses=error_responses(BackendUnavailable),
    name="rate_limits",
)
def rate_limits(service: ServiceDep) -> models.RateLimits:
    """Each RQ 3 rate-limit key: its concurrency, the jobs holding a slot and those waiting."""
    return models.RateLimits.of(service.rate_limits())


@router.get(
    "/job-groups",
    response_model=models.JobGroups,
    responses=error_responses(BackendUnavailable),
    name="job_groups",
)
def job_groups(service: ServiceDep) -> models.JobGroups:
    """RQ's job groups (`Group.enqueue_many`) with their sizes. Not failure groups: those are
    under /api/v1/jobs/failed/groups."""
    return models.JobGroups.of(service.job_groups())


@router.get(
    "/job-groups/{name}",
    response_model=models.JobGroup,
    responses=error_responses(
        (NotFound, "No such job group"), (InvalidInput, "Invalid name"), BackendUnavailable
    ),
    name="job_group",
)
def job_group(
    name: Annotated[
        str,
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        Path(description="The group's name.", json_schema_extra={"pattern": DOCUMENTED_QUEUE_NAME_PATTERN}),
    ],
    service: ServiceDep,
) -> models.JobGroup:
    """One job group's jobs and their statuses."""
    return models.JobGroup.of(service.job_group(name))
