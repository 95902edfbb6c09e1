"""Response models matching ../shared/api/job-management-api.md. Keys may be added, never renamed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway import services
from gateway.services import BulkOutcome, JobActionOutcome, JobInfo, QueueStats
from gateway.services.audit import AuditPage
from gateway.services.bulk import MAX_SELECTED_IDS
from gateway.services.models import CleanupOutcome, QueueInfo, WorkerInfo
from gateway.services.validation import JOB_ID_PATTERN


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


class JobError(BaseModel):
    job_id: str
    error: str


class RetryAll(BaseModel):
    success: bool
    total_failed: int
    requeued_count: int
    error_count: int
    requeued_jobs: list[str]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: BulkOutcome) -> RetryAll:
        return cls(
            success=outcome.success,
            total_failed=outcome.total_failed,
            requeued_count=outcome.done_count,
            error_count=outcome.error_count,
            requeued_jobs=outcome.done_jobs,
            errors=[JobError(job_id=e.job_id, error=e.error) for e in outcome.errors],
        )


class Clear(BaseModel):
    success: bool
    total_failed: int
    deleted_count: int
    error_count: int
    deleted_jobs: list[str]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: BulkOutcome) -> Clear:
        return cls(
            success=outcome.success,
            total_failed=outcome.total_failed,
            deleted_count=outcome.done_count,
            error_count=outcome.error_count,
            deleted_jobs=outcome.done_jobs,
            errors=[JobError(job_id=e.job_id, error=e.error) for e in outcome.errors],
        )


class Stats(BaseModel):
    queue_name: str
    queued_count: int
    failed_count: int
    started_count: int
    finished_count: int
    deferred_count: int
    scheduled_count: int
    canceled_count: int

    @classmethod
    def of(cls, stats: QueueStats) -> Stats:
        return cls(**stats.__dict__)


class ErrorDetail(BaseModel):
    detail: str = Field(examples=["Job abc-123 not found in failed jobs registry"])


class Queue(Stats):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "queue_name": "default",
                    "queued_count": 12,
                    "failed_count": 2,
                    "started_count": 1,
                    "finished_count": 340,
                    "deferred_count": 0,
                    "scheduled_count": 3,
                    "canceled_count": 0,
                    "latency_seconds": 4.215,
                    "worker_count": 2,
                }
            ]
        }
    )

    latency_seconds: float | None = Field(
        description="Seconds since the job at the head of the queue was enqueued; null when empty."
    )
    worker_count: int = Field(description="Live workers listening to this queue.")

    @classmethod
    def of(cls, queue: QueueInfo) -> Queue:
        return cls(
            **queue.stats.__dict__, latency_seconds=queue.latency_seconds, worker_count=queue.worker_count
        )


class JobList(BaseModel):
    """A cursor page of jobs. Rendered by hand in the route; this model documents it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "jobs": [Job.model_config["json_schema_extra"]["examples"][0]],
                    "total": 42,
                    "next_cursor": "MTcwNDExMDQwMHxhYmMtMTIz",
                }
            ]
        }
    )

    jobs: list[Job]
    total: int = Field(description="Live entries of the whole registry (or queue), not just this page.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Worker(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "3f1c9a2e7b5d4c60a1e2f3b4c5d6e7f8",
                    "state": "busy",
                    "queues": ["default", "reports"],
                    "current_job_id": "abc-123",
                    "successful_job_count": 120,
                    "failed_job_count": 3,
                    "total_working_time": 96.5,
                    "last_heartbeat": "2024-01-01T12:00:00.000000Z",
                    "birth_date": "2024-01-01T08:00:00.000000Z",
                    "hostname": "worker-1",
                    "pid": 4242,
                }
            ]
        }
    )

    name: str
    state: str = Field(description="RQ's worker state: started, idle, busy, suspended (or '?').")
    queues: list[str]
    current_job_id: str | None
    successful_job_count: int
    failed_job_count: int
    total_working_time: float = Field(description="Seconds spent running jobs.")
    last_heartbeat: str | None = Field(description="ISO 8601, UTC, ending in Z.")
    birth_date: str | None = Field(description="ISO 8601, UTC, ending in Z.")
    hostname: str | None
    pid: int | None

    @classmethod
    def of(cls, worker: WorkerInfo) -> Worker:
        return cls(**worker.__dict__)


class RegistryCounts(BaseModel):
    started: int
    finished: int
    failed: int
    deferred: int
    scheduled: int
    canceled: int


class Cleanup(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "queue_name": "default",
                    "total_removed": 5,
                    "removed": {
                        "started": 1,
                        "finished": 3,
                        "failed": 1,
                        "deferred": 0,
                        "scheduled": 0,
                        "canceled": 0,
                    },
                }
            ]
        }
    )

    queue_name: str
    total_removed: int
    removed: RegistryCounts = Field(description="Expired entries removed, per registry.")

    @classmethod
    def of(cls, outcome: CleanupOutcome) -> Cleanup:
        return cls(
            queue_name=outcome.queue_name,
            total_removed=outcome.total_removed,
            removed=RegistryCounts(**outcome.removed),
        )


class FailureGroup(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "a8d494807ed75704",
                    "kind": "failure",
                    "func_name": "gateway.demo.jobs.parse_report",
                    "exc_type": "ValueError",
                    "message": "ValueError: malformed report header in <str>",
                    "count": 42,
                    "first_failed_at": "2024-01-01T02:10:00.000000Z",
                    "last_failed_at": "2024-01-01T03:55:00.000000Z",
                    "sample_job_id": "abc-123",
                }
            ]
        }
    )

    group_id: str = Field(description="Stable id of the cause: the same cause has the same id on every call.")
    kind: str = Field(
        description='"failure"; "orphan" for entries whose job data is gone; "unreadable" for jobs '
        "whose function cannot be decoded."
    )
    func_name: str | None
    exc_type: str | None = Field(
        description="Class of the raised exception (the outermost of a chain), as the traceback names it."
    )
    message: str | None = Field(
        description="The raised exception's line (type and first message line; for an exception group, "
        "its message and its leaf exceptions' types) with numbers, hex, UUIDs, timestamps and quoted "
        "values replaced by placeholders."
    )
    count: int
    first_failed_at: str | None = Field(
        description="Earliest ended_at of the group's jobs (ISO 8601 UTC, Z)."
    )
    last_failed_at: str | None = Field(description="Latest ended_at of the group's jobs.")
    sample_job_id: str = Field(description="The member that failed last.")

    @classmethod
    def of(cls, group: services.FailureGroup) -> FailureGroup:
        return cls(**group.__dict__)


class FailureGroups(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "groups": FailureGroup.model_config["json_schema_extra"]["examples"],
                    "total_failed": 45,
                }
            ]
        }
    )

    groups: list[FailureGroup] = Field(description="Largest group first, then by group_id.")
    total_failed: int = Field(description="Entries of the failed registry when the walk began.")

    @classmethod
    def of(cls, result: services.FailureGroups) -> FailureGroups:
        return cls(groups=[FailureGroup.of(g) for g in result.groups], total_failed=result.total_failed)


class _GroupAction(BaseModel):
    group_id: str
    dry_run: bool = Field(description="True when nothing was changed: the lists say what would be done.")
    matched_count: int = Field(description="Members of the group found in the failed registry.")


_GROUP_IDS = ["job-1", "job-2"]


class GroupRetry(_GroupAction, RetryAll):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "total_failed": 45,
                    "requeued_count": 2,
                    "error_count": 0,
                    "requeued_jobs": _GROUP_IDS,
                    "errors": [],
                    "group_id": "a8d494807ed75704",
                    "dry_run": False,
                    "matched_count": 2,
                }
            ]
        }
    )

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> GroupRetry:
        return cls(**RetryAll.of(outcome).model_dump(), **_group_fields(outcome))


class GroupDelete(_GroupAction, Clear):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "total_failed": 45,
                    "deleted_count": 2,
                    "error_count": 0,
                    "deleted_jobs": _GROUP_IDS,
                    "errors": [],
                    "group_id": "a8d494807ed75704",
                    "dry_run": True,
                    "matched_count": 2,
                }
            ]
        }
    )

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> GroupDelete:
        return cls(**Clear.of(outcome).model_dump(), **_group_fields(outcome))


def _group_fields(outcome: services.GroupOutcome) -> dict[str, Any]:
    return {"group_id": outcome.group_id, "dry_run": outcome.dry_run, "matched_count": outcome.matched_count}


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
                    **Job.model_config["json_schema_extra"]["examples"][0],
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

    model_config = ConfigDict(json_schema_extra={"examples": [{"job_ids": ["abc-123", "def-456"]}]})

    job_ids: list[str] = Field(
        max_length=MAX_SELECTED_IDS,
        description=f"Failed job ids, at most {MAX_SELECTED_IDS}; each is acted on once.",
        # Documented only: the service checks each id, with its own message (a 422 `detail`).
        json_schema_extra={"items": {"type": "string", "pattern": f"^{JOB_ID_PATTERN.pattern}$"}},
    )


class AuditEntry(BaseModel):
    cursor: str = Field(description="The stream entry id.")
    time: str
    request_id: str
    key: str = Field(description="Name of the API key, or `anonymous`.")
    action: str = Field(description="retry, delete, retry_all, clear, ...")
    queue: str | None
    job_count: int
    job_ids: list[str] = Field(description="The first 10 job ids.")
    outcome: str = Field(description="ok, refused or error.")
    error: str | None = Field(description="The error, e.g. Forbidden, FailedJobNotFound; null when ok.")


class AuditLog(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "entries": [
                        {
                            "cursor": "1764320000000-0",
                            "time": "2026-11-28T09:53:20.000000Z",
                            "request_id": "4f1c2a9e0b7d4e51a3c6d8f0e2b4a6c8",
                            "key": "oncall",
                            "action": "retry_all",
                            "queue": "default",
                            "job_count": 2,
                            "job_ids": ["abc-123", "abc-124"],
                            "outcome": "ok",
                            "error": None,
                        }
                    ],
                    "total": 1,
                    "next_cursor": None,
                }
            ]
        }
    )

    entries: list[AuditEntry] = Field(description="Newest first.")
    total: int = Field(
        description="Entries kept in the capped stream; for a queue-limited key, those of its queues."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for older entries; null on the last page.")

    @classmethod
    def of(cls, page: AuditPage) -> AuditLog:
        return cls(
            entries=[AuditEntry(**entry.__dict__) for entry in page.entries],
            total=page.total,
            next_cursor=page.end_cursor if page.has_next_page else None,
        )
