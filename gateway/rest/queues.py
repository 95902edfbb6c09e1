"""Queues, their registries, their cleanup and emptying under /api/v1/queues. Plain `def` handlers: FastAPI
runs their blocking Redis calls in its threadpool."""

from __future__ import annotations

import json
from typing import Annotated, Literal, TypeAlias

from fastapi import APIRouter, Path, Query, Response

from gateway.errors import BackendUnavailable, DataDamaged, InvalidInput, NotFound
from gateway.rest import models
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.paths import EncodedSlashRoute
from gateway.services import DOCUMENTED_QUEUE_NAME_PATTERN, MAX_PAGE_SIZE, ORDERS, STATES

_ERRORS = error_responses(
    (NotFound, "RQ does not know this queue: `Queue 'nope' not found`"),
    (InvalidInput, "Invalid queue name or parameter"),
    BackendUnavailable,
)

QueuePath = Annotated[
    str,
    Path(
        description="Queue name, percent-encoded: any name RQ accepts, 1 to 512 characters without "
        "control characters (`emails%2Fhigh` for `emails/high`).",
        examples=["default"],
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        json_schema_extra={"pattern": DOCUMENTED_QUEUE_NAME_PATTERN},
    ),
]
State: TypeAlias = Literal[STATES]  # pyright: ignore[reportInvalidTypeForm]  -- the states, from the one tuple
Order: TypeAlias = Literal[ORDERS]  # pyright: ignore[reportInvalidTypeForm]  -- the orders, from the one tuple

# Queue names may hold an encoded "/": routed on the path as sent (rest/paths.py).
router = APIRouter(prefix="/api/v1/queues", tags=["queues"], route_class=EncodedSlashRoute)
_dumps = json.JSONEncoder(separators=(",", ":")).encode


@router.get(
    "", response_model=list[models.Queue], responses=error_responses(BackendUnavailable), name="list_queues"
)
def list_queues(service: ServiceDep) -> list[models.Queue]:
    """Every queue in RQ's set of queues, sorted by name, with the live count of each registry,
    the latency (age of the oldest queued job) and the number of live workers listening. Three
    Redis round trips whatever the number of queues; nothing is cleaned up."""
    return [models.Queue.of(queue) for queue in service.queues()]


@router.get("/{queue}", response_model=models.Queue, responses=_ERRORS, name="get_queue")
def get_queue(queue: QueuePath, service: ServiceDep) -> models.Queue:
    """One queue. 404 when it is not in RQ's set of queues, has no job, registry entry or
    listening worker. A queue RQ knows but that is empty answers 200 with zero counts."""
    return models.Queue.of(service.queue(queue))


@router.get("/{queue}/jobs", response_model=models.JobList, responses=_ERRORS, name="list_queue_jobs")
def list_queue_jobs(
    queue: QueuePath,
    service: ServiceDep,
    state: Annotated[State, Query(description="Which jobs: the queue itself, or one registry.")] = "queued",
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE_SIZE, description="Jobs per page.")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page, unchanged.")] = None,
    order: Annotated[
        Order, Query(description="asc: oldest first (next to run, for the queue); desc: newest first.")
    ] = "asc",
) -> Response:
    """A page of the queue's jobs in one state. Registry pages are in registry-score order and
    the cursor is the last entry's (score, id), so paging while jobs are retried or deleted
    never skips or repeats a job that stayed. Expired entries are hidden, never removed. `limit=0`
    answers the total alone (`next_cursor` null). 404 when RQ does not know the queue."""
    page = service.queue_jobs(queue, state, limit, cursor, order)
    jobs = ",".join(_dumps(models.job_dict(job)) for job in page.jobs)
    tail = _dumps({"total": page.total, "next_cursor": page.end_cursor if page.has_next_page else None})
    return Response('{"jobs":[' + jobs + "]," + tail[1:], media_type="application/json")


@router.post("/{queue}/cleanup", response_model=models.Cleanup, responses=_ERRORS, name="cleanup_queue")
def cleanup_queue(queue: QueuePath, service: ServiceDep) -> models.Cleanup:
    """Run RQ's registry cleanup on the queue now, as `rq worker` does in its maintenance pass:
    expired entries of the started, finished and failed registries are removed, and abandoned
    started jobs move to the failed registry (or are retried). Deferred, scheduled and canceled
    entries never expire, so their counts are always 0. This writes to Redis. 404 when RQ does
    not know the queue."""
    return models.Cleanup.of(service.cleanup_queue(queue))


_EMPTY_ERRORS = error_responses(
    (NotFound, "RQ does not know this queue: `Queue 'nope' not found`"),
    (InvalidInput, "Invalid queue name or parameter"),
    (DataDamaged, "The queue's key holds another Redis type than a list"),
    BackendUnavailable,
)


@router.post("/{queue}/empty", response_model=models.EmptyQueue, responses=_EMPTY_ERRORS, name="empty_queue")
def empty_queue(
    queue: QueuePath,
    service: ServiceDep,
    dry_run: Annotated[bool, Query(description="Count the jobs queued now and delete nothing.")] = False,
) -> models.EmptyQueue:
    """Delete every job waiting in the queue with its keys (job hash, results, dependents), as
    `rq empty QUEUE` does; role admin, audited. It takes a bounded chunk of the queue per Redis
    call, so workers keep being served, and goes on until the queue is empty: jobs enqueued
    while it runs may go too. Jobs that were waiting on a deleted job stay deferred, as with
    `rq empty`. 404 when RQ does not know the queue."""
    return models.EmptyQueue.of(service.empty_queue(queue, dry_run))
