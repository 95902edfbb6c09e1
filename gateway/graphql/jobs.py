"""Job queries and mutations: each resolver parses its arguments, calls the service and maps the result."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import asks_for_results, service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types import (
    ClearResult,
    FailedJobFilterInput,
    Job,
    JobActionResult,
    JobConnection,
    QueueStats,
    RetryAllResult,
)
from gateway.services import JobPage, JobService


@strawberry.type
class JobQuery:
    @strawberry.field(
        description="Failed jobs of a queue in registry order, as a Relay connection. With `filter`, only "
        "matching jobs; totalCount then counts the matches (a walk of the whole registry, done only "
        "when totalCount is asked for)."
    )
    async def failed_jobs(
        self,
        info: Info,
        queue: str | None = None,
        first: int | None = 100,
        after: str | None = None,
        filter: FailedJobFilterInput | None = None,
    ) -> JobConnection:
        size = 100 if first is None else first
        with_results = asks_for_results(info.selected_fields)
        if filter is None:
            page = await call_service(service_of(info).failed_page, queue, size, after, with_results)
        else:
            with_total = _selects(info.selected_fields, "totalCount")
            page = await call_service(
                _filtered_page, service_of(info), filter, queue, size, after, with_results, with_total
            )
        return JobConnection.of(page)

    @strawberry.field(
        description="Any job by id; null (with a NOT_FOUND error) when it does not exist, or is "
        "outside the API key's queue patterns."
    )
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        with_results = asks_for_results(info.selected_fields)
        return Job.of(await call_service(service_of(info).get_job, str(id), with_results))

    @strawberry.field(description="Counts of a queue and its registries.")
    async def queue_stats(self, info: Info, queue: str | None = None) -> QueueStats:
        return QueueStats.of(await call_service(service_of(info).stats, queue))


@strawberry.type
class JobMutation:
    @strawberry.mutation(
        description="Requeue one failed job on its origin queue, from that queue's failed registry. "
        "`queue`, if given, must be the job's queue (else NOT_FOUND naming it)."
    )
    async def retry_failed_job(
        self, info: Info, id: strawberry.ID, queue: str | None = None
    ) -> JobActionResult:
        return JobActionResult.of(await call_service(service_of(info).retry, str(id), queue))

    @strawberry.mutation(
        description="Requeue every failed job of a queue (or those matching `filter`); each is enqueued "
        "once. With dryRun, answer with the ids that would be requeued and change nothing."
    )
    async def retry_all_failed_jobs(
        self,
        info: Info,
        queue: str | None = None,
        filter: FailedJobFilterInput | None = None,
        dry_run: bool = False,
    ) -> RetryAllResult:
        outcome = await call_service(_filtered_bulk, service_of(info).retry_all, queue, filter, dry_run)
        return RetryAllResult.of(outcome)

    @strawberry.mutation(
        description="Delete one failed job and everything RQ keeps for it, from its own queue's failed "
        "registry. `queue`, if given, must be the job's queue (else NOT_FOUND naming it)."
    )
    async def delete_failed_job(
        self, info: Info, id: strawberry.ID, queue: str | None = None
    ) -> JobActionResult:
        return JobActionResult.of(await call_service(service_of(info).delete, str(id), queue))

    @strawberry.mutation(
        description="Delete every failed job of a queue (or those matching `filter`). With dryRun, "
        "answer with the ids that would be deleted and change nothing."
    )
    async def clear_failed_jobs(
        self,
        info: Info,
        queue: str | None = None,
        filter: FailedJobFilterInput | None = None,
        dry_run: bool = False,
    ) -> ClearResult:
        return ClearResult.of(
            await call_service(_filtered_bulk, service_of(info).clear, queue, filter, dry_run)
        )


def _selects(selections, name: str) -> bool:
    return any(getattr(selection, "name", None) == name for selection in selections) or any(
        _selects(getattr(selection, "selections", ()), name) for selection in selections
    )


# Run in the threadpool by call_service, so a bad filter value becomes a BAD_REQUEST there.
def _filtered_page(service: JobService, job_filter: FailedJobFilterInput, *args) -> JobPage:
    queue, size, after, with_results, with_total = args
    return service.failed_page(
        queue, size, after, with_results, job_filter=job_filter.parse(), with_total=with_total
    )


def _filtered_bulk(method, queue: str | None, job_filter: FailedJobFilterInput | None, dry_run: bool):
    return method(queue, job_filter=job_filter.parse() if job_filter else None, dry_run=dry_run)
