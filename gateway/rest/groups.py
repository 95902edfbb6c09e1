"""Failure groups under /api/v1/jobs/failed/groups: list the causes of a queue's failures, and
retry or delete one cause as a whole. Included before the jobs router, so `/failed/groups` is
never read as a job id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.errors import BackendUnavailable, InvalidInput, NotFound
from gateway.rest import models
from gateway.rest.deps import QueueParam, ServiceDep
from gateway.rest.errors import error_responses
from gateway.services import GROUP_ID_PATTERN

_LIST_ERRORS = error_responses(
    (NotFound, "`?queue=` names a queue RQ does not know"),
    (InvalidInput, "Invalid queue name"),
    BackendUnavailable,
)
_ERRORS = error_responses(
    (NotFound, "No failed job of the queue is in this group now, or RQ does not know the queue"),
    (InvalidInput, "Invalid group id or parameter"),
    BackendUnavailable,
)

GroupIdPath = Annotated[
    str,
    Path(
        description="A group_id from GET /failed/groups: 16 lowercase hex digits.",
        examples=["a8d494807ed75704"],
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        json_schema_extra={"pattern": f"^{GROUP_ID_PATTERN.pattern}$"},
    ),
]
DryRunParam = Annotated[
    bool, Query(description="Change nothing; answer with the ids that would be acted on.")
]

router = APIRouter(prefix="/api/v1/jobs", tags=["failure groups"])


@router.get(
    "/failed/groups", response_model=models.FailureGroups, responses=_LIST_ERRORS, name="failure_groups"
)
def failure_groups(service: ServiceDep, queue: QueueParam = None) -> models.FailureGroups:
    """The queue's failed jobs grouped by function, exception type and the raised exception's line
    with values (numbers, hex, UUIDs, timestamps, quoted text) normalized. Largest group first."""
    return models.FailureGroups.of(service.failure_groups(queue))


@router.post(
    "/failed/groups/{group_id}/retry",
    response_model=models.GroupRetry,
    responses=_ERRORS,
    name="retry_failure_group",
)
def retry_failure_group(
    group_id: GroupIdPath, service: ServiceDep, queue: QueueParam = None, dry_run: DryRunParam = False
) -> models.GroupRetry:
    """Requeue every failed job of the group on its origin queue, each exactly once; retry-all's
    answer plus `group_id`, `dry_run` and `matched_count`."""
    return models.GroupRetry.of(service.retry_failure_group(group_id, queue, dry_run))


@router.delete(
    "/failed/groups/{group_id}",
    response_model=models.GroupDelete,
    responses=_ERRORS,
    name="delete_failure_group",
)
def delete_failure_group(
    group_id: GroupIdPath, service: ServiceDep, queue: QueueParam = None, dry_run: DryRunParam = False
) -> models.GroupDelete:
    """Delete every failed job of the group and everything RQ keeps for it; clear's answer plus
    `group_id`, `dry_run` and `matched_count`."""
    return models.GroupDelete.of(service.delete_failure_group(group_id, queue, dry_run))
