"""Selective bulk actions on failed jobs, and cancel/requeue of any job. Plain `def` handlers:
FastAPI runs their blocking Redis calls in its threadpool."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.errors import Conflict
from gateway.rest import models
from gateway.rest.deps import QueueParam, ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.jobs import JOB_ERRORS, LIST_ERRORS, JobIdPath

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

_CONFLICT = error_responses(Conflict)
_MISSING = "Job gone-1 not found in failed jobs registry"


def _example(value: dict) -> dict:
    return {200: {"content": {"application/json": {"example": value}}}}


_RETRIED = _example(
    {
        "success": False,
        "total_failed": 2,
        "requeued_count": 1,
        "error_count": 1,
        "requeued_jobs": ["abc-123"],
        "errors": [{"job_id": "gone-1", "error": _MISSING}],
    }
)
_DELETED = _example(
    {
        "success": False,
        "total_failed": 2,
        "deleted_count": 1,
        "error_count": 1,
        "deleted_jobs": ["abc-123"],
        "errors": [{"job_id": "gone-1", "error": _MISSING}],
    }
)
_CANCELED = _example(
    {"success": True, "job_id": "abc-123", "message": "Job abc-123 has been canceled successfully"}
)
_REQUEUED = _example(
    {"success": True, "job_id": "abc-123", "message": "Job abc-123 has been requeued successfully"}
)


@router.post(
    "/failed/retry",
    response_model=models.RetryAll,
    responses={**LIST_ERRORS, **_RETRIED},
    name="retry_selected",
)
def retry_selected_jobs(
    body: models.SelectedJobs, service: ServiceDep, queue: QueueParam = None
) -> models.RetryAll:
    """Requeue the listed failed jobs, each once, in retry-all's answer shape. An id that is not
    in the queue's failed registry is listed in `errors`; the others are still requeued."""
    return models.RetryAll.of(service.retry_selected(body.job_ids, queue))


@router.post(
    "/failed/delete",
    response_model=models.Clear,
    responses={**LIST_ERRORS, **_DELETED},
    name="delete_selected",
)
def delete_selected_jobs(
    body: models.SelectedJobs, service: ServiceDep, queue: QueueParam = None
) -> models.Clear:
    """Delete the listed failed jobs, each once, in clear's answer shape. An id that is not in the
    queue's failed registry is listed in `errors`; the others are still deleted."""
    return models.Clear.of(service.delete_selected(body.job_ids, queue))


@router.post(
    "/{job_id}/cancel",
    response_model=models.JobAction,
    responses={**JOB_ERRORS, **_CONFLICT, **_CANCELED},
    name="cancel_job",
)
def cancel_job(job_id: JobIdPath, service: ServiceDep) -> models.JobAction:
    """Cancel a queued, deferred or scheduled job, as RQ's Job.cancel() leaves it (status canceled,
    in the CanceledJobRegistry). 409 when the job is in another state or a worker took it first."""
    return models.JobAction.of(service.cancel(job_id))


@router.post(
    "/{job_id}/requeue",
    response_model=models.JobAction,
    responses={**JOB_ERRORS, **_CONFLICT, **_REQUEUED},
    name="requeue_job",
)
def requeue_job(job_id: JobIdPath, service: ServiceDep) -> models.JobAction:
    """Requeue a canceled or stopped job on its origin queue, as RQ's registry requeue does.
    409 when the job is in another state."""
    return models.JobAction.of(service.requeue(job_id))
