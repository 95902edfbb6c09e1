"""Selective bulk mutations on failed jobs, and cancel/requeue of any job."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types import ClearResult, JobActionResult, RetryAllResult


@strawberry.type
class LifecycleMutation:
    @strawberry.mutation(
        description="Requeue the listed failed jobs (at most 1000), each once; ids not in the failed "
        "registry are listed in errors."
    )
    async def retry_failed_jobs(
        self, info: Info, ids: list[strawberry.ID], queue: str | None = None
    ) -> RetryAllResult:
        job_ids = [str(i) for i in ids]
        return RetryAllResult.of(await call_service(service_of(info).retry_selected, job_ids, queue))

    @strawberry.mutation(
        description="Delete the listed failed jobs (at most 1000), each once; ids not in the failed "
        "registry are listed in errors."
    )
    async def delete_failed_jobs(
        self, info: Info, ids: list[strawberry.ID], queue: str | None = None
    ) -> ClearResult:
        job_ids = [str(i) for i in ids]
        return ClearResult.of(await call_service(service_of(info).delete_selected, job_ids, queue))

    @strawberry.mutation(
        description="Cancel a queued, deferred or scheduled job; CONFLICT when it is in another state."
    )
    async def cancel_job(self, info: Info, id: strawberry.ID) -> JobActionResult:
        return JobActionResult.of(await call_service(service_of(info).cancel, str(id)))

    @strawberry.mutation(
        description="Requeue a canceled or stopped job; CONFLICT when it is in another state."
    )
    async def requeue_job(self, info: Info, id: strawberry.ID) -> JobActionResult:
        return JobActionResult.of(await call_service(service_of(info).requeue, str(id)))
