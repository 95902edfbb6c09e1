"""Failure-group queries and mutations: the same service calls as REST's /failed/groups routes."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types import DeleteFailureGroupResult, FailureGroups, RetryFailureGroupResult


@strawberry.type
class GroupQuery:
    @strawberry.field(
        description="A queue's failed jobs grouped by function, exception type and normalized last "
        "traceback line; largest group first. A key limited to queue patterns gets only the jobs whose "
        "origin is the queue: another queue's job in its registry, or an orphan, is in no group and "
        "not in totalFailed."
    )
    async def failure_groups(self, info: Info, queue: str | None = None) -> FailureGroups:
        return FailureGroups.of(await call_service(service_of(info).failure_groups, queue))


@strawberry.type
class GroupMutation:
    @strawberry.mutation(description="Requeue every failed job of a failure group; each is enqueued once.")
    async def retry_failure_group(
        self, info: Info, group_id: strawberry.ID, queue: str | None = None, dry_run: bool = False
    ) -> RetryFailureGroupResult:
        outcome = await call_service(service_of(info).retry_failure_group, str(group_id), queue, dry_run)
        return RetryFailureGroupResult.of(outcome)

    @strawberry.mutation(description="Delete every failed job of a failure group.")
    async def delete_failure_group(
        self, info: Info, group_id: strawberry.ID, queue: str | None = None, dry_run: bool = False
    ) -> DeleteFailureGroupResult:
        outcome = await call_service(service_of(info).delete_failure_group, str(group_id), queue, dry_run)
        return DeleteFailureGroupResult.of(outcome)
