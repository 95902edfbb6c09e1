"""The read-only schedule views (issue 15): the twins of GET /api/v1/cron and /api/v1/scheduler."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types.schedules import CronView, RqSchedulerView


@strawberry.type
class ScheduleQuery:
    @strawberry.field(
        description="RQ's CronSchedulers (RQ >= 2.4) and their cron jobs with their newest runs; "
        "empty without one."
    )
    async def cron(self, info: Info) -> CronView:
        return CronView.of(await call_service(service_of(info).cron))

    @strawberry.field(description="rq-scheduler's scheduled jobs by next run; empty without rq-scheduler.")
    async def scheduler(self, info: Info, first: int = 100) -> RqSchedulerView:
        return RqSchedulerView.of(await call_service(service_of(info).rq_scheduler, first))
