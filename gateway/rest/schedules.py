"""Read-only schedule views (issue 15): GET /api/v1/cron and GET /api/v1/scheduler."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.errors import BackendUnavailable, InvalidInput
from gateway.rest import models
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.services import MAX_PAGE_SIZE

router = APIRouter(prefix="/api/v1", tags=["scheduling"])


@router.get("/cron", response_model=models.Cron, responses=error_responses(BackendUnavailable), name="cron")
def cron(service: ServiceDep) -> models.Cron:
    """RQ's CronSchedulers (RQ >= 2.4): host, pid, last heartbeat, and each cron job's function,
    cron expression or interval, queue, next run, last enqueue and newest runs. Read-only; empty
    without a CronScheduler."""
    return models.Cron.of(service.cron())


@router.get(
    "/scheduler",
    response_model=models.RqScheduler,
    responses=error_responses((InvalidInput, "Invalid `first`"), BackendUnavailable),
    name="rq_scheduler",
)
def rq_scheduler(
    service: ServiceDep,
    first: Annotated[
        int,
        Query(
            description=f"At most this many jobs (0 to {MAX_PAGE_SIZE}).",
            json_schema_extra={"minimum": 0, "maximum": MAX_PAGE_SIZE},  # checked by the service
        ),
    ] = 100,
) -> models.RqScheduler:
    """rq-scheduler's scheduled jobs, by next run: function, queue, interval or cron string and
    repeats left. Read-only; empty when rq-scheduler's key does not exist."""
    return models.RqScheduler.of(service.rq_scheduler(first))
