"""The seven documented endpoints under /api/v1/jobs. Handlers are plain `def`, so FastAPI runs
their blocking Redis calls in its threadpool, never on the event loop."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from gateway.errors import BackendUnavailable, InvalidInput, NotFound
from gateway.rest import models
from gateway.rest.deps import QueueParam, ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.filters import DryRunParam, FilterParams
from gateway.services import JOB_ID_PATTERN, JobInfo

# The errors of the routes that address one job, and of those that address a queue's failed jobs.
_INVALID = (InvalidInput, "Invalid job id or parameter")
JOB_ERRORS = error_responses(
    (
        NotFound,
        "No such job, not in the failed registry, or in another queue than `queue` names. A job "
        "outside the API key's queue patterns answers exactly like a missing one.",
    ),
    _INVALID,
    BackendUnavailable,
)
LIST_ERRORS = error_responses(
    (NotFound, "`?queue=` names a queue RQ does not know"), _INVALID, BackendUnavailable
)

JobIdPath = Annotated[
    str,
    Path(
        description="RQ job id: letters, digits, '-' and '_'.",
        examples=["abc-123"],
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        json_schema_extra={"pattern": f"^{JOB_ID_PATTERN.pattern}$"},
    ),
]

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
_dumps = json.JSONEncoder(separators=(",", ":")).encode


@router.get("/failed", response_model=list[models.Job], responses=LIST_ERRORS, name="list_failed_jobs")
def list_failed_jobs(
    service: ServiceDep,
    queue: QueueParam = None,
    limit: Annotated[int | None, Query(ge=0, description="At most this many jobs; all when omitted.")] = None,
    offset: Annotated[int, Query(ge=0, description="Skip this many jobs first.")] = 0,
    *,  # a dependency, always given: keyword-only, it needs no placeholder default
    job_filter: FilterParams,
) -> Response:
    """Every failed job of the queue, in registry order (oldest failure first). The filter
    parameters narrow the list; `offset` and `limit` then count matching jobs."""
    # Access, input and the first chunk are checked here, before the first byte: those errors
    # are the usual 4xx/503 answers. The rest is read and written a chunk at a time.
    jobs = service.stream_failed(queue, offset=offset, limit=limit, job_filter=job_filter)
    return StreamingResponse(_json_array(jobs), media_type="application/json")


def _json_array(chunks: Iterable[list[JobInfo]]) -> Iterator[str]:
    """The JSON array of the jobs, a chunk per part. Starlette runs each step in the threadpool,
    so rendering never holds the event loop; one json.dumps per job, not one per chunk, so the
    GIL is released between jobs. A failure mid-way raises: the server then aborts the
    connection, and the client never gets the closing bracket of an array that looks complete."""
    opening = "["
    for chunk in chunks:
        if chunk:
            yield opening + ",".join(_dumps(models.job_dict(job)) for job in chunk)
            opening = ","
    yield "[]" if opening == "[" else "]"


@router.post("/failed/retry-all", response_model=models.RetryAll, responses=LIST_ERRORS, name="retry_all")
def retry_all_failed_jobs(
    service: ServiceDep,
    queue: QueueParam = None,
    *,  # a dependency, always given: keyword-only, it needs no placeholder default
    job_filter: FilterParams,
    dry_run: DryRunParam = False,
) -> models.RetryAll:
    """Requeue every failed job on its origin queue. Each job is enqueued exactly once. With
    filter parameters, only matching jobs (total_failed counts them); with dry_run, nothing changes."""
    return models.RetryAll.of(service.retry_all(queue, job_filter=job_filter, dry_run=dry_run))


# Declared before /failed/{job_id} so a job whose id is "clear" cannot shadow it.
@router.delete("/failed/clear", response_model=models.Clear, responses=LIST_ERRORS, name="clear_failed")
def clear_failed_jobs(
    service: ServiceDep,
    queue: QueueParam = None,
    *,  # a dependency, always given: keyword-only, it needs no placeholder default
    job_filter: FilterParams,
    dry_run: DryRunParam = False,
) -> models.Clear:
    """Delete every failed job: registry entry, job hash, results stream and dependency keys. With
    filter parameters, only matching jobs (total_failed counts them); with dry_run, nothing changes."""
    return models.Clear.of(service.clear(queue, job_filter=job_filter, dry_run=dry_run))


@router.post(
    "/failed/{job_id}/retry", response_model=models.JobAction, responses=JOB_ERRORS, name="retry_job"
)
def retry_failed_job(job_id: JobIdPath, service: ServiceDep, queue: QueueParam = None) -> models.JobAction:
    """Requeue one failed job on its origin queue, as RQ's own requeue does. It is taken from the
    failed registry of its own queue: `queue`, when given, must be that queue (else a 404 that
    names the job's queue)."""
    return models.JobAction.of(service.retry(job_id, queue))


@router.delete("/failed/{job_id}", response_model=models.JobAction, responses=JOB_ERRORS, name="delete_job")
def delete_failed_job(job_id: JobIdPath, service: ServiceDep, queue: QueueParam = None) -> models.JobAction:
    """Delete one failed job and everything RQ keeps for it, from the failed registry of its own
    queue: `queue`, when given, must be that queue (else a 404 that names the job's queue). An
    orphaned entry (no job data) is looked for in `queue`, or the default queue."""
    return models.JobAction.of(service.delete(job_id, queue))


@router.get("/status/{job_id}", response_model=models.JobDetail, responses=JOB_ERRORS, name="job_status")
def job_status(job_id: JobIdPath, service: ServiceDep, queue: QueueParam = None) -> models.JobDetail:
    """Status and details of any job, whatever queue or registry it is in, with where it is
    (`location`) and its `dependency_ids` and `dependent_ids`. A `queue` given is checked as
    everywhere (403 outside the key's patterns, 404 unknown); the job is found wherever it is."""
    if queue is not None:
        service.known_queue(queue)
    return models.JobDetail.of(service.get_job(job_id))


@router.get("/stats", response_model=models.Stats, responses=LIST_ERRORS, name="queue_stats")
def queue_stats(service: ServiceDep, queue: QueueParam = None) -> Response:
    """Counts of the queue and its registries, in one Redis round trip."""
    # The hottest endpoint (dashboards poll it): rendered here from the model, which skips
    # FastAPI's second validation and serialization of the returned object on the event loop.
    return Response(models.Stats.of(service.stats(queue)).model_dump_json(), media_type="application/json")
