"""Failure groups, and the answers of a group retry or delete: a bulk answer plus the group's
fields."""

from __future__ import annotations

import strawberry

from gateway import services
from gateway.graphql.types.bulk import ClearResult, RetryAllResult, bulk_fields


@strawberry.type(description="Failed jobs sharing one cause; the same values as REST's group.")
class FailureGroup:
    group_id: strawberry.ID
    kind: str
    func_name: str | None
    exc_type: str | None
    message: str | None
    count: int
    first_failed_at: str | None
    last_failed_at: str | None
    sample_job_id: strawberry.ID

    @classmethod
    def of(cls, group: services.FailureGroup) -> FailureGroup:
        return cls(
            group_id=strawberry.ID(group.group_id),
            kind=group.kind,
            func_name=group.func_name,
            exc_type=group.exc_type,
            message=group.message,
            count=group.count,
            first_failed_at=group.first_failed_at,
            last_failed_at=group.last_failed_at,
            sample_job_id=strawberry.ID(group.sample_job_id),
        )


@strawberry.type
class FailureGroups:
    groups: list[FailureGroup]
    total_failed: int

    @classmethod
    def of(cls, result: services.FailureGroups) -> FailureGroups:
        return cls(groups=[FailureGroup.of(g) for g in result.groups], total_failed=result.total_failed)


@strawberry.type
class RetryFailureGroupResult(RetryAllResult):
    group_id: strawberry.ID
    dry_run: bool
    matched_count: int

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> RetryFailureGroupResult:
        return cls(**bulk_fields(outcome, "requeued"))


@strawberry.type
class DeleteFailureGroupResult(ClearResult):
    group_id: strawberry.ID
    dry_run: bool
    matched_count: int

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> DeleteFailureGroupResult:
        return cls(**bulk_fields(outcome, "deleted"))
