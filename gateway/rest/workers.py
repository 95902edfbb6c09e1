"""RQ workers under /api/v1/workers."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.errors import BackendUnavailable
from gateway.rest import models
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses

router = APIRouter(prefix="/api/v1/workers", tags=["workers"])


@router.get(
    "",
    response_model=list[models.Worker],
    responses=error_responses(BackendUnavailable),
    name="list_workers",
)
def list_workers(service: ServiceDep) -> list[models.Worker]:
    """Every live RQ worker, sorted by name: state, queues, current job, counters and heartbeat.
    A key limited to queue patterns gets only the workers listening to one of its queues, each
    with only those queues in `queues`, and `current_job_id` only when that job's queue is one of
    them. At most four Redis round trips whatever the number of workers."""
    return [models.Worker.of(worker) for worker in service.workers()]
