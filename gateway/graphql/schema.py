"""Query and Mutation: each resolver parses its arguments, calls the service and maps the result."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.errors import ErrorCodes, call_service
from gateway.graphql.types import (
    ClearResult,
    Job,
    JobActionResult,
    JobConnection,
    QueueStats,
    RetryAllResult,
)
from gateway.services import JobService


def _service(info: Info) -> JobService:
    return info.context["service"]


@strawberry.type
class Query:
    @strawberry.field(description="Failed jobs of a queue in registry order, as a Relay connection.")
    async def failed_jobs(
        self, info: Info, queue: str | None = None, first: int | None = 100, after: str | None = None
    ) -> JobConnection:
        size = 100 if first is None else first
        page = await call_service(_service(info).failed_page, queue, size, after)
        return JobConnection.of(page)

    @strawberry.field(description="Any job by id; null (with a NOT_FOUND error) when it does not exist.")
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        return Job.of(await call_service(_service(info).get_job, str(id)))

    @strawberry.field(description="Counts of a queue and its registries.")
    async def queue_stats(self, info: Info, queue: str | None = None) -> QueueStats:
        return QueueStats.of(await call_service(_service(info).stats, queue))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Requeue one failed job on its origin queue.")
    async def retry_failed_job(
        self, info: Info, id: strawberry.ID, queue: str | None = None
    ) -> JobActionResult:
        return JobActionResult.of(await call_service(_service(info).retry, str(id), queue))

    @strawberry.mutation(description="Requeue every failed job of a queue; each is enqueued once.")
    async def retry_all_failed_jobs(self, info: Info, queue: str | None = None) -> RetryAllResult:
        return RetryAllResult.of(await call_service(_service(info).retry_all, queue))

    @strawberry.mutation(description="Delete one failed job and everything RQ keeps for it.")
    async def delete_failed_job(
        self, info: Info, id: strawberry.ID, queue: str | None = None
    ) -> JobActionResult:
        return JobActionResult.of(await call_service(_service(info).delete, str(id), queue))

    @strawberry.mutation(description="Delete every failed job of a queue.")
    async def clear_failed_jobs(self, info: Info, queue: str | None = None) -> ClearResult:
        return ClearResult.of(await call_service(_service(info).clear, queue))


class _Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected outcomes (not found, bad input, Redis down) are answers, not server faults;
        # unexpected ones were logged with their traceback when ErrorCodes masked them.
        return None


schema = _Schema(query=Query, mutation=Mutation, extensions=[ErrorCodes])
