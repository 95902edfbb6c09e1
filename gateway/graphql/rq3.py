"""RQ 3's rate limits and job groups (issue 15): the twins of gateway/rest/rq3.py."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway import services
from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service


@strawberry.type
class LimitedJob:
    job_id: strawberry.ID
    queue: str | None
    status: str | None

    @classmethod
    def of(cls, job: services.LimitedJob) -> LimitedJob:
        return cls(job_id=strawberry.ID(job.job_id), queue=job.queue, status=job.status)


@strawberry.type
class RateLimit:
    key: str
    concurrency: int | None
    allowed_count: int
    waiting_count: int
    allowed: list[LimitedJob] = strawberry.field(description="The first 100 holding a slot.")
    waiting: list[LimitedJob] = strawberry.field(description="The first 100 waiting, oldest first.")

    @classmethod
    def of(cls, limit: services.RateLimitInfo) -> RateLimit:
        return cls(
            key=limit.key,
            concurrency=limit.concurrency,
            allowed_count=limit.allowed_count,
            waiting_count=limit.waiting_count,
            allowed=[LimitedJob.of(job) for job in limit.allowed],
            waiting=[LimitedJob.of(job) for job in limit.waiting],
        )


@strawberry.type
class JobGroupSize:
    name: str
    job_count: int


@strawberry.type
class JobGroup:
    name: str
    job_count: int
    jobs: list[LimitedJob] = strawberry.field(description="The first 100 by id, with their statuses.")


@strawberry.type
class Rq3Query:
    @strawberry.field(description="RQ 3's rate-limit keys: concurrency, jobs holding a slot and waiting.")
    async def rate_limits(self, info: Info) -> list[RateLimit]:
        return [RateLimit.of(limit) for limit in await call_service(service_of(info).rate_limits)]

    @strawberry.field(
        description="RQ's job groups (Group.enqueue_many) with their sizes; not failure groups."
    )
    async def job_groups(self, info: Info) -> list[JobGroupSize]:
        groups = await call_service(service_of(info).job_groups)
        return [JobGroupSize(name=group.name, job_count=group.job_count) for group in groups]

    @strawberry.field(description="One job group's jobs and their statuses; NOT_FOUND when it has none.")
    async def job_group(self, info: Info, name: str) -> JobGroup:
        group = await call_service(service_of(info).job_group, name)
        return JobGroup(
            name=group.name, job_count=group.job_count, jobs=[LimitedJob.of(j) for j in group.jobs]
        )
