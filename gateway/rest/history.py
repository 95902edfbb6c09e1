"""A queue's per-minute history: GET /api/v1/queues/{queue}/history (README "Queue history").
A plain `def` handler: FastAPI runs its blocking Redis read in its threadpool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gateway import services
from gateway.errors import BackendUnavailable, InvalidInput, NotFound
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.paths import EncodedSlashRoute
from gateway.rest.queues import QueuePath
from gateway.services import MAX_STEP

_ERRORS = error_responses(
    (NotFound, "RQ does not know this queue: `Queue 'nope' not found`"),
    (InvalidInput, "Invalid queue name, date, range or step"),
    BackendUnavailable,
)


class HistoryBucket(BaseModel):
    start: str = Field(description="Start of the bucket, ISO 8601 UTC.")
    failed: int | None = Field(description="Jobs that failed in the bucket (by ended_at).")
    finished: int | None = Field(description="Jobs that finished in the bucket (by ended_at).")
    queued: int | None = Field(description="Largest queue length sampled.")
    latency_seconds: float | None = Field(description="Largest age of the head job sampled.")
    run_seconds_p50: float | None = Field(description="Median run time of the jobs that ended.")
    run_seconds_p95: float | None = Field(description="95th percentile run time.")
    run_seconds_max: float | None = Field(description="Longest run time.")

    @classmethod
    def of(cls, bucket: services.HistoryBucket) -> HistoryBucket:
        return cls(**bucket.__dict__)


class QueueHistory(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "queue": "default",
                    "step": 5,
                    "buckets": [
                        {
                            "start": "2026-01-31T22:00:00Z",
                            "failed": 3,
                            "finished": 120,
                            "queued": 14,
                            "latency_seconds": 2.5,
                            "run_seconds_p50": 0.41,
                            "run_seconds_p95": 1.93,
                            "run_seconds_max": 4.2,
                        }
                    ],
                }
            ]
        }
    )
    queue: str
    step: int = Field(description="Minutes per bucket.")
    buckets: list[HistoryBucket]

    @classmethod
    def of(cls, history: services.QueueHistory) -> QueueHistory:
        return cls(
            queue=history.queue, step=history.step, buckets=[HistoryBucket.of(b) for b in history.buckets]
        )


router = APIRouter(prefix="/api/v1/queues", tags=["queues"], route_class=EncodedSlashRoute)


@router.get("/{queue}/history", response_model=QueueHistory, responses=_ERRORS, name="queue_history")
def queue_history(
    queue: QueuePath,
    service: ServiceDep,
    since: Annotated[
        str | None, Query(description="ISO 8601, naive means UTC; default: an hour before `until`.")
    ] = None,
    until: Annotated[str | None, Query(description="ISO 8601, naive means UTC; default: now.")] = None,
    step: Annotated[
        int,
        Query(
            description=f"Minutes per bucket, 1 to {MAX_STEP}.",
            # Documented only: the service checks it, with its own message (as GraphQL gets it).
            json_schema_extra={"minimum": 1, "maximum": MAX_STEP},
        ),
    ] = 1,
) -> QueueHistory:
    """The queue's history in buckets of `step` minutes, from `since` (rounded down to its minute)
    to `until`: jobs failed and finished, the largest queue length and head-job age, and run-time
    percentiles. A field is null where nothing was sampled (no gateway ran). 404 when RQ does not
    know the queue; 422 for a bad date, an empty range or a bad step."""
    return QueueHistory.of(service.queue_history(queue, since, until, step))
