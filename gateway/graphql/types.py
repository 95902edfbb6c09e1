"""Strawberry types. Field names are the camelCase forms of the REST keys; values are identical."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from gateway import services

JobStatus = strawberry.enum(
    Enum("JobStatus", {status.upper(): status for status in services.JOB_STATUSES}),
    description="RQ job status; the REST API gives the same value in lower case.",
)


@strawberry.type
class Job:
    id: strawberry.ID
    status: JobStatus
    func_name: str | None
    args: JSON | None
    kwargs: JSON | None
    created_at: str | None
    enqueued_at: str | None
    started_at: str | None
    ended_at: str | None
    result: JSON | None
    exc_info: str | None
    origin: str
    description: str | None
    is_finished: bool
    is_failed: bool
    is_started: bool
    is_queued: bool
    location: JobLocation | None = strawberry.field(
        default=None, description="Where the job is; only `job(id)` sets it (null in lists)."
    )
    dependency_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Jobs this job waits for; only `job(id)` sets it (null in lists)."
    )
    dependent_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Jobs waiting for this job; only `job(id)` sets it (null in lists)."
    )

    @classmethod
    def of(cls, job: services.JobInfo) -> Job:
        return cls(
            id=strawberry.ID(job.job_id),
            status=JobStatus(job.status),
            func_name=job.func_name,
            args=job.args,
            kwargs=job.kwargs,
            created_at=job.created_at,
            enqueued_at=job.enqueued_at,
            started_at=job.started_at,
            ended_at=job.ended_at,
            result=job.result,
            exc_info=job.exc_info,
            origin=job.origin,
            description=job.description,
            is_finished=job.is_finished,
            is_failed=job.is_failed,
            is_started=job.is_started,
            is_queued=job.is_queued,
            location=JobLocation(queue=job.location.queue, registry=job.location.registry)
            if job.location
            else None,
            dependency_ids=_ids(job.dependency_ids),
            dependent_ids=_ids(job.dependent_ids),
        )


def _ids(values: list[str] | None) -> list[strawberry.ID] | None:
    return None if values is None else [strawberry.ID(v) for v in values]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class JobEdge:
    cursor: str
    node: Job


@strawberry.type
class JobConnection:
    total_count: int
    nodes: list[Job]
    edges: list[JobEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: services.JobPage) -> JobConnection:
        nodes = [Job.of(job) for job in page.jobs]
        return cls(
            total_count=page.total,
            nodes=nodes,
            edges=[JobEdge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type
class QueueStats:
    queue_name: str
    queued_count: int
    failed_count: int
    started_count: int
    finished_count: int
    deferred_count: int
    scheduled_count: int
    canceled_count: int

    @classmethod
    def of(cls, stats: services.QueueStats) -> QueueStats:
        return cls(**stats.__dict__)


@strawberry.type
class JobError:
    job_id: strawberry.ID
    error: str


@strawberry.type
class JobActionResult:
    success: bool
    job_id: strawberry.ID
    message: str

    @classmethod
    def of(cls, outcome: services.JobActionOutcome) -> JobActionResult:
        return cls(success=outcome.success, job_id=strawberry.ID(outcome.job_id), message=outcome.message)


def _errors(outcome: services.BulkOutcome) -> list[JobError]:
    return [JobError(job_id=strawberry.ID(e.job_id), error=e.error) for e in outcome.errors]


@strawberry.type
class RetryAllResult:
    success: bool
    total_failed: int
    requeued_count: int
    error_count: int
    requeued_jobs: list[strawberry.ID]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: services.BulkOutcome) -> RetryAllResult:
        return cls(
            success=outcome.success,
            total_failed=outcome.total_failed,
            requeued_count=outcome.done_count,
            error_count=outcome.error_count,
            requeued_jobs=[strawberry.ID(i) for i in outcome.done_jobs],
            errors=_errors(outcome),
        )


@strawberry.type
class ClearResult:
    success: bool
    total_failed: int
    deleted_count: int
    error_count: int
    deleted_jobs: list[strawberry.ID]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: services.BulkOutcome) -> ClearResult:
        return cls(
            success=outcome.success,
            total_failed=outcome.total_failed,
            deleted_count=outcome.done_count,
            error_count=outcome.error_count,
            deleted_jobs=[strawberry.ID(i) for i in outcome.done_jobs],
            errors=_errors(outcome),
        )


@strawberry.type
class Worker:
    name: str
    state: str = strawberry.field(description="RQ's worker state: started, idle, busy, suspended (or '?').")
    queues: list[str]
    current_job_id: strawberry.ID | None
    successful_job_count: int
    failed_job_count: int
    total_working_time: float = strawberry.field(description="Seconds spent running jobs.")
    last_heartbeat: str | None
    birth_date: str | None
    hostname: str | None
    pid: int | None

    @classmethod
    def of(cls, worker: services.WorkerInfo) -> Worker:
        fields = dict(worker.__dict__)
        if worker.current_job_id is not None:
            fields["current_job_id"] = strawberry.ID(worker.current_job_id)
        return cls(**fields)


@strawberry.type
class RegistryCounts:
    started: int
    finished: int
    failed: int
    deferred: int
    scheduled: int
    canceled: int


@strawberry.type
class CleanupResult:
    queue_name: str
    total_removed: int
    removed: RegistryCounts

    @classmethod
    def of(cls, outcome: services.CleanupOutcome) -> CleanupResult:
        return cls(
            queue_name=outcome.queue_name,
            total_removed=outcome.total_removed,
            removed=RegistryCounts(**outcome.removed),
        )


@strawberry.type(description="Failed jobs sharing one cause; the same values as REST's group.")
class FailureGroup:
    group_id: strawberry.ID
    kind: str
    func_name: str | None
    exc_type: str | None
    message: str | None
    count: int
    first_failed_at: str | None
    last_failed_at: str | None
    sample_job_id: strawberry.ID

    @classmethod
    def of(cls, group: services.FailureGroup) -> FailureGroup:
        return cls(
            group_id=strawberry.ID(group.group_id),
            kind=group.kind,
            func_name=group.func_name,
            exc_type=group.exc_type,
            message=group.message,
            count=group.count,
            first_failed_at=group.first_failed_at,
            last_failed_at=group.last_failed_at,
            sample_job_id=strawberry.ID(group.sample_job_id),
        )


@strawberry.type
class FailureGroups:
    groups: list[FailureGroup]
    total_failed: int

    @classmethod
    def of(cls, result: services.FailureGroups) -> FailureGroups:
        return cls(groups=[FailureGroup.of(g) for g in result.groups], total_failed=result.total_failed)


@strawberry.type
class RetryFailureGroupResult(RetryAllResult):
    group_id: strawberry.ID
    dry_run: bool
    matched_count: int

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> RetryFailureGroupResult:
        base = RetryAllResult.of(outcome)
        return cls(**base.__dict__, **_group_fields(outcome))


@strawberry.type
class DeleteFailureGroupResult(ClearResult):
    group_id: strawberry.ID
    dry_run: bool
    matched_count: int

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> DeleteFailureGroupResult:
        base = ClearResult.of(outcome)
        return cls(**base.__dict__, **_group_fields(outcome))


def _group_fields(outcome: services.GroupOutcome) -> dict:
    return {
        "group_id": strawberry.ID(outcome.group_id),
        "dry_run": outcome.dry_run,
        "matched_count": outcome.matched_count,
    }


@strawberry.input(
    name="FailedJobFilter", description="All given criteria must hold; see REST's query parameters."
)
class FailedJobFilterInput:
    func_name: str | None = strawberry.field(default=None, description="Exact function name.")
    exc_type: str | None = strawberry.field(
        default=None, description="Exact class of the raised exception (the outermost of a chain)."
    )
    search: str | None = strawberry.field(
        default=None, description="Case-sensitive substring of the traceback."
    )
    failed_after: str | None = strawberry.field(
        default=None, description="ISO 8601; naive means UTC. Matches ended_at >= failedAfter."
    )
    failed_before: str | None = strawberry.field(
        default=None, description="ISO 8601; naive means UTC. Matches ended_at < failedBefore."
    )

    def parse(self) -> services.FailedJobFilter:
        """InvalidParameter on a bad date or an oversized text."""
        return services.FailedJobFilter.parse(
            self.func_name, self.exc_type, self.search, self.failed_after, self.failed_before
        )


@strawberry.type
class JobLocation:
    queue: str
    registry: str | None = strawberry.field(
        description="queued, started, failed, finished, deferred, scheduled or canceled; null when in none."
    )
