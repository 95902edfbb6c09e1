"""Queue queries and the cleanup and empty mutations: parse, call the service, map the result."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from gateway import services
from gateway.graphql.context import asks_for_results, service_of
from gateway.graphql.errors import call_service
from gateway.graphql.history import history_field
from gateway.graphql.types import CleanupResult, EmptyQueueResult, JobConnection, QueueStats
from gateway.services import ORDERS, STATES

JobState = strawberry.enum(  # pyright: ignore[reportCallIssue]  -- an Enum built at runtime
    Enum("JobState", {state.upper(): state for state in STATES}),  # pyright: ignore[reportArgumentType]  -- an Enum built at runtime
    description="Where a queue's jobs are: QUEUED is the queue itself, the others its registries.",
)
SortOrder = strawberry.enum(  # pyright: ignore[reportCallIssue]  -- an Enum built at runtime
    Enum("SortOrder", {order.upper(): order for order in ORDERS}),  # pyright: ignore[reportArgumentType]  -- an Enum built at runtime
    description="ASC: oldest first (next to run, for the queue); DESC: newest first.",
)


@strawberry.type
class Queue(QueueStats):
    latency_seconds: float | None = strawberry.field(
        description="Seconds since the job at the head of the queue was enqueued; null when empty."
    )
    worker_count: int = strawberry.field(description="Live workers listening to this queue.")
    name_decodes: strawberry.Private[bool] = True
    history = history_field

    @classmethod
    def of(cls, queue: services.QueueInfo) -> Queue:
        return cls(
            **queue.stats.__dict__,
            latency_seconds=queue.latency_seconds,
            worker_count=queue.worker_count,
            name_decodes=queue.name_decodes,
        )

    @strawberry.field(description="A page of this queue's jobs in one state, as a Relay connection.")
    async def jobs(
        self,
        info: Info,
        state: JobState = JobState.QUEUED,  # pyright: ignore[reportInvalidTypeForm]  -- an enum built at runtime from STATES
        first: int | None = 100,
        after: str | None = None,
        order: SortOrder = SortOrder.ASC,  # pyright: ignore[reportInvalidTypeForm]  -- an enum built at runtime from ORDERS
    ) -> JobConnection:
        size = 100 if first is None else first
        if not self.name_decodes:
            # A damaged name (not UTF-8 in Redis) addresses nothing: its counts are listed, and
            # its pages are empty rather than an error that would void the whole queue list.
            return JobConnection.of(services.JobPage(jobs=[], total=0, end_cursor=None, has_next_page=False))
        with_results = asks_for_results(info.selected_fields)
        page = await call_service(
            service_of(info).queue_jobs, self.queue_name, state.value, size, after, order.value, with_results
        )
        return JobConnection.of(page)


@strawberry.type
class QueueQuery:
    @strawberry.field(description="Every queue in RQ's set of queues, sorted by name.")
    async def queues(self, info: Info) -> list[Queue]:
        return [Queue.of(queue) for queue in await call_service(service_of(info).queues)]

    @strawberry.field(description="One queue; null (with a NOT_FOUND error) when RQ does not know it.")
    async def queue(self, info: Info, name: str) -> Queue | None:
        return Queue.of(await call_service(service_of(info).queue, name))


@strawberry.type
class QueueMutation:
    @strawberry.mutation(
        description="Run RQ's registry cleanup on a queue now (expired entries; abandoned started jobs "
        "move to the failed registry). Reads never clean up."
    )
    async def cleanup_queue(self, info: Info, name: str) -> CleanupResult:
        return CleanupResult.of(await call_service(service_of(info).cleanup_queue, name))

    @strawberry.mutation(
        description="Delete every job waiting in the queue with its keys, as `rq empty` does (role "
        "admin). dryRun counts them and deletes nothing. Jobs enqueued while it runs may go too."
    )
    async def empty_queue(self, info: Info, name: str, dry_run: bool = False) -> EmptyQueueResult:
        return EmptyQueueResult.of(await call_service(service_of(info).empty_queue, name, dry_run))
