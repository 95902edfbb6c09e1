"""On-call controls (issue 15): stop a running job, enqueue a scheduled one now, replay one;
suspend, resume and shut down workers. Plain `def` handlers: FastAPI runs their blocking Redis
calls in its threadpool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.errors import BackendUnavailable, Conflict, InvalidInput, NotFound
from gateway.rest import models
from gateway.rest.deps import QueueParam, ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.jobs import JOB_ERRORS, JobIdPath
from gateway.services import DOCUMENTED_QUEUE_NAME_PATTERN, MAX_SUSPEND_SECONDS

jobs_router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
workers_router = APIRouter(prefix="/api/v1/workers", tags=["workers"])

_CONFLICT = error_responses(Conflict)
_WORKER_ERRORS = error_responses(
    (NotFound, "No live worker of that name"),
    (InvalidInput, "Invalid worker name"),
    (Conflict, "The worker is not listening (it died without unregistering)"),
    BackendUnavailable,
)
_SUSPEND_ERRORS = error_responses((InvalidInput, "Invalid duration"), BackendUnavailable)

WorkerNamePath = Annotated[
    str,
    Path(
        description="The worker's name, as GET /api/v1/workers lists it.",
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        json_schema_extra={"pattern": DOCUMENTED_QUEUE_NAME_PATTERN},
    ),
]


@jobs_router.post(
    "/{job_id}/stop",
    response_model=models.WorkerCommand,
    responses={**JOB_ERRORS, **_CONFLICT},
    name="stop_job",
)
def stop_job(job_id: JobIdPath, service: ServiceDep) -> models.WorkerCommand:
    """Send RQ's stop-job command to the worker running the job. The worker kills the job's work
    horse and the job ends in RQ's `stopped` state (requeue it with POST /{job_id}/requeue).
    409 when the job is not running, saying its status."""
    return models.WorkerCommand.of(service.stop_job(job_id))


@jobs_router.post(
    "/{job_id}/enqueue-now",
    response_model=models.EnqueueNow,
    responses={**JOB_ERRORS, **_CONFLICT},
    name="enqueue_job_now",
)
def enqueue_job_now(
    job_id: JobIdPath,
    service: ServiceDep,
    force: Annotated[
        bool,
        Query(
            description="Also enqueue a DEFERRED job, which waits for its dependencies: it then runs "
            "WITHOUT them, at once, whether they finished, failed or never ran."
        ),
    ] = False,
) -> models.EnqueueNow:
    """Move a scheduled job to its queue now, exactly once even while RQ's scheduler moves it.
    A deferred job is a 409 unless `force=true`. Any other state is a 409 that says it."""
    return models.EnqueueNow.of(service.enqueue_now(job_id, force))


@jobs_router.post(
    "/{job_id}/replay", response_model=models.Replay, responses={**JOB_ERRORS, **_CONFLICT}, name="replay_job"
)
def replay_job(job_id: JobIdPath, service: ServiceDep, queue: QueueParam = None) -> models.Replay:
    """Enqueue a new job with a finished or failed job's function, args, kwargs, timeout, result
    and failure TTL and meta, on its queue or `queue`. The new job's meta has `replay_of`, the old
    job's `replayed_as`. 409 for other states, and for data the gateway cannot decode."""
    return models.Replay.of(service.replay(job_id, queue))


@workers_router.get(
    "/suspension",
    response_model=models.Suspension,
    responses=error_responses(BackendUnavailable),
    name="suspension",
)
def suspension(service: ServiceDep) -> models.Suspension:
    """Whether workers are suspended (`rq suspend`), and until when."""
    return models.Suspension.of(service.worker_suspension())


@workers_router.post(
    "/suspend", response_model=models.Suspension, responses=_SUSPEND_ERRORS, name="suspend_workers"
)
def suspend_workers(
    service: ServiceDep,
    duration: Annotated[
        int | None,
        Query(
            description="Seconds until the suspension ends by itself (1 to "
            f"{MAX_SUSPEND_SECONDS}); without it, until resumed.",
            json_schema_extra={"minimum": 1, "maximum": MAX_SUSPEND_SECONDS},  # checked by the service
        ),
    ] = None,
) -> models.Suspension:
    """What `rq suspend [--duration SECONDS]` does: no worker starts a new job (a running job
    finishes). Burst workers exit instead of waiting."""
    return models.Suspension.of(service.suspend_workers(duration))


@workers_router.post(
    "/resume",
    response_model=models.Suspension,
    responses=error_responses(BackendUnavailable),
    name="resume_workers",
)
def resume_workers(service: ServiceDep) -> models.Suspension:
    """What `rq resume` does: workers take jobs again at their next check (about a second)."""
    return models.Suspension.of(service.resume_workers())


@workers_router.post(
    "/{worker_name}/shutdown",
    response_model=models.WorkerCommand,
    responses=_WORKER_ERRORS,
    name="shutdown_worker",
)
def shutdown_worker(
    worker_name: WorkerNamePath,
    service: ServiceDep,
    kill_horse: Annotated[
        bool, Query(description="Also kill the work horse: the current job is killed and fails.")
    ] = False,
) -> models.WorkerCommand:
    """RQ's shutdown command: a warm shutdown, the worker exits after its current job."""
    return models.WorkerCommand.of(service.shutdown_worker(worker_name, kill_horse))
