"""On-call controls (issue 15): the twins of gateway/rest/control.py's routes."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types.control import (
    EnqueueNowResult,
    ReplayResult,
    WorkerCommandResult,
    WorkerSuspension,
)


@strawberry.type
class ControlQuery:
    @strawberry.field(description="Whether workers are suspended (`rq suspend`), and until when.")
    async def worker_suspension(self, info: Info) -> WorkerSuspension:
        return WorkerSuspension.of(await call_service(service_of(info).worker_suspension))


@strawberry.type
class ControlMutation:
    @strawberry.mutation(
        description="Send RQ's stop-job command to the worker running the job; it ends as stopped. "
        "CONFLICT when the job is not running."
    )
    async def stop_job(self, info: Info, id: strawberry.ID) -> WorkerCommandResult:
        return WorkerCommandResult.of(await call_service(service_of(info).stop_job, str(id)))

    @strawberry.mutation(
        description="Move a scheduled job to its queue now, exactly once. A deferred job is CONFLICT "
        "unless force: true, which enqueues it WITHOUT waiting for its dependencies."
    )
    async def enqueue_job_now(self, info: Info, id: strawberry.ID, force: bool = False) -> EnqueueNowResult:
        return EnqueueNowResult.of(await call_service(service_of(info).enqueue_now, str(id), force))

    @strawberry.mutation(
        description="Enqueue a new job with a finished or failed job's call, on its queue or `queue`."
    )
    async def replay_job(self, info: Info, id: strawberry.ID, queue: str | None = None) -> ReplayResult:
        return ReplayResult.of(await call_service(service_of(info).replay, str(id), queue))

    @strawberry.mutation(
        description="What `rq suspend [--duration SECONDS]` does: no worker starts a new job."
    )
    async def suspend_workers(self, info: Info, duration: int | None = None) -> WorkerSuspension:
        return WorkerSuspension.of(await call_service(service_of(info).suspend_workers, duration))

    @strawberry.mutation(description="What `rq resume` does.")
    async def resume_workers(self, info: Info) -> WorkerSuspension:
        return WorkerSuspension.of(await call_service(service_of(info).resume_workers))

    @strawberry.mutation(
        description="RQ's shutdown command: a warm shutdown after the current job; killHorse kills it."
    )
    async def shutdown_worker(self, info: Info, name: str, kill_horse: bool = False) -> WorkerCommandResult:
        return WorkerCommandResult.of(await call_service(service_of(info).shutdown_worker, name, kill_horse))
