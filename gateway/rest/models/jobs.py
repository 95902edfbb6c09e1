"""Jobs as REST gives them: the list entry, /status's detail, a page, a single-job action's answer,
and the body naming jobs for the selective bulk actions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.rest.models.examples import examples_of
from gateway.services import JOB_ID_PATTERN, MAX_SELECTED_IDS, JobActionOutcome, JobInfo


class Job(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "abc-123",
                    "status": "failed",
                    "func_name": "app.workers.jobs.simulate_replicated_trade",
                    "args": [1],
                    "kwargs": {},
                    "created_at": "2024-01-01T12:00:00.000000Z",
                    "enqueued_at": "2024-01-01T12:00:00.100000Z",
                    "started_at": "2024-01-01T12:00:01.000000Z",
                    "ended_at": "2024-01-01T12:01:00.000000Z",
                    "exc_info": "Traceback (most recent call last): ...",
                    "result": None,
                    "origin": "default",
                    "description": "app.workers.jobs.simulate_replicated_trade(1)",
                    "is_finished": False,
                    "is_failed": True,
                    "is_started": False,
                    "is_queued": False,
                }
            ]
        }
    )

    job_id: str
    status: str = Field(description="RQ job status: queued, started, finished, failed, deferred, ...")
    func_name: str | None
    args: Any = Field(description="Positional arguments as JSON; null when they cannot be decoded.")
    kwargs: Any = Field(description="Keyword arguments as JSON; null when they cannot be decoded.")
    created_at: str | None = Field(description="ISO 8601, UTC, ending in Z.")
    enqueued_at: str | None
    started_at: str | None
    ended_at: str | None
    result: Any = Field(description="Return value of a finished job as JSON (repr when JSON cannot hold it).")
    exc_info: str | None = Field(description="Traceback of the latest failure, while the job is failed.")
    origin: str
    description: str | None
    is_finished: bool
    is_failed: bool
    is_started: bool
    is_queued: bool

    @classmethod
    def of(cls, job: JobInfo) -> Job:
        return cls.model_construct(**job_dict(job))


def job_dict(job: JobInfo) -> dict[str, Any]:
    """The documented JSON of one job. Lists are rendered from this directly, without building a
    model per job, since they can hold 100k jobs."""
    return {
        "job_id": job.job_id,
        "status": job.status,
        "func_name": job.func_name,
        "args": job.args,
        "kwargs": job.kwargs,
        "created_at": job.created_at,
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "result": job.result,
        "exc_info": job.exc_info,
        "origin": job.origin,
        "description": job.description,
        "is_finished": job.is_finished,
        "is_failed": job.is_failed,
        "is_started": job.is_started,
        "is_queued": job.is_queued,
    }


class JobAction(BaseModel):
    success: bool
    job_id: str
    message: str

    @classmethod
    def of(cls, outcome: JobActionOutcome) -> JobAction:
        return cls(success=outcome.success, job_id=outcome.job_id, message=outcome.message)


class JobLocation(BaseModel):
    queue: str = Field(description="The job's origin queue.", examples=["default"])
    registry: str | None = Field(
        description="Where the job is: queued (in the queue list), started, failed, finished, deferred, "
        "scheduled or canceled; null when it is in none of them.",
        examples=["failed"],
    )


class JobDetail(Job):
    """A job as /status gives it: the list's keys plus where it is and its dependencies."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **examples_of(Job)[0],
                    "location": {"queue": "default", "registry": "failed"},
                    "dependency_ids": [],
                    "dependent_ids": ["def-456"],
                }
            ]
        }
    )

    location: JobLocation | None = Field(description="The job's queue and the registry it is in.")
    dependency_ids: list[str] = Field(description="Jobs this job waits for (RQ's depends_on).")
    dependent_ids: list[str] = Field(description="Jobs waiting for this job.")

    @classmethod
    def of(cls, job: JobInfo) -> JobDetail:
        location = job.location
        return cls.model_construct(
            **job_dict(job),
            location=JobLocation(queue=location.queue, registry=location.registry) if location else None,
            dependency_ids=job.dependency_ids or [],
            dependent_ids=job.dependent_ids or [],
        )


class SelectedJobs(BaseModel):
    """The body of the selective bulk actions."""

    # An unknown field (a `queue` that belongs in the query string) is a 422, not dropped.
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"job_ids": ["abc-123", "def-456"]}]}
    )

    job_ids: list[str] = Field(
        max_length=MAX_SELECTED_IDS,
        description=f"Failed job ids, at most {MAX_SELECTED_IDS}; each is acted on once.",
        # Documented only: the service checks each id, with its own message (a 422 `detail`).
        json_schema_extra={"items": {"type": "string", "pattern": f"^{JOB_ID_PATTERN.pattern}$"}},
    )


class JobList(BaseModel):
    """A cursor page of jobs. Rendered by hand in the route; this model documents it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "jobs": [examples_of(Job)[0]],
                    "total": 42,
                    "next_cursor": "MTcwNDExMDQwMHxhYmMtMTIz",
                }
            ]
        }
    )

    jobs: list[Job]
    total: int = Field(description="Live entries of the whole registry (or queue), not just this page.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
