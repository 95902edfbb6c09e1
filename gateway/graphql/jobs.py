"""Job queries and mutations: each resolver parses its arguments, calls the service and maps the result."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.errors import call_service
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


# Job fields read from the results stream: fetched for a whole page in its one pipeline, and
# only when the query asks for one of them.
_RESULT_FIELDS = frozenset({"excInfo", "result"})


def _asks_for_results(selections) -> bool:
    return any(
        getattr(selection, "name", None) in _RESULT_FIELDS
        or _asks_for_results(getattr(selection, "selections", ()))
        for selection in selections
    )


@strawberry.type
class JobQuery:
    @strawberry.field(description="Failed jobs of a queue in registry order, as a Relay connection.")
    async def failed_jobs(
        self, info: Info, queue: str | None = None, first: int | None = 100, after: str | None = None
    ) -> JobConnection:
        size = 100 if first is None else first
        with_results = _asks_for_results(info.selected_fields)
        page = await call_service(_service(info).failed_page, queue, size, after, with_results)
        return JobConnection.of(page)

    @strawberry.field(description="Any job by id; null (with a NOT_FOUND error) when it does not exist.")
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        with_results = _asks_for_results(info.selected_fields)
        return Job.of(await call_service(_service(info).get_job, str(id), with_results))

    @strawberry.field(description="Counts of a queue and its registries.")
    async def queue_stats(self, info: Info, queue: str | None = None) -> QueueStats:
        return QueueStats.of(await call_service(_service(info).stats, queue))


@strawberry.type
class JobMutation:
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
