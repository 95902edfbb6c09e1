"""Jobs as GraphQL gives them: a job, where it is, a page of jobs, a single-job action's answer,
and the failed-job filter."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from gateway import services

JobStatus = strawberry.enum(  # pyright: ignore[reportCallIssue]  -- an Enum built at runtime
    Enum("JobStatus", {status.upper(): status for status in services.JOB_STATUSES}),  # pyright: ignore[reportArgumentType]  -- an Enum built at runtime
    description="RQ job status; the REST API gives the same value in lower case.",
)


@strawberry.type
class Job:
    id: strawberry.ID
    status: JobStatus  # pyright: ignore[reportInvalidTypeForm]  -- an Enum built at runtime
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
class JobLocation:
    queue: str
    registry: str | None = strawberry.field(
        description="queued, started, failed, finished, deferred, scheduled or canceled; null when in none."
    )


@strawberry.type
class JobActionResult:
    success: bool
    job_id: strawberry.ID
    message: str

    @classmethod
    def of(cls, outcome: services.JobActionOutcome) -> JobActionResult:
        return cls(success=outcome.success, job_id=strawberry.ID(outcome.job_id), message=outcome.message)


# The filter's fields as the schema names them, for its error messages.
GRAPHQL_NAMES = {
    "func_name": "funcName",
    "exc_type": "excType",
    "search": "search",
    "failed_after": "failedAfter",
    "failed_before": "failedBefore",
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
        """InvalidParameter on a bad date or an oversized text, naming the argument as GraphQL does."""
        return services.FailedJobFilter.parse(
            self.func_name, self.exc_type, self.search, self.failed_after, self.failed_before, GRAPHQL_NAMES
        )
