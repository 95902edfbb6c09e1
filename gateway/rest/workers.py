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
    At most three Redis round trips whatever the number of workers."""
    return [models.Worker.of(worker) for worker in service.workers()]
