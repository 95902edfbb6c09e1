"""The answers of the bulk mutations (all, filtered, selected ids, a failure group): one mapping
of a BulkOutcome, `bulk_fields`, named by the mutation's verb."""

from __future__ import annotations

from typing import Any, Literal

import strawberry

from gateway import services


@strawberry.type
class JobError:
    job_id: strawberry.ID
    error: str


@strawberry.type
class RetryAllResult:
    success: bool
    total_failed: int
    requeued_count: int
    error_count: int
    requeued_jobs: list[strawberry.ID]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: services.BulkOutcome) -> RetryAllResult:
        return cls(**bulk_fields(outcome, "requeued"))


@strawberry.type
class ClearResult:
    success: bool
    total_failed: int
    deleted_count: int
    error_count: int
    deleted_jobs: list[strawberry.ID]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: services.BulkOutcome) -> ClearResult:
        return cls(**bulk_fields(outcome, "deleted"))


def bulk_fields(outcome: services.BulkOutcome, verb: Literal["requeued", "deleted"]) -> dict[str, Any]:
    """The fields of a bulk answer: `<verb>_count` and `<verb>_jobs` name what was done; a group
    mutation's answer adds the group's fields."""
    fields: dict[str, Any] = {
        "success": outcome.success,
        "total_failed": outcome.total_failed,
        f"{verb}_count": outcome.done_count,
        "error_count": outcome.error_count,
        f"{verb}_jobs": [strawberry.ID(i) for i in outcome.done_jobs],
        "errors": [JobError(job_id=strawberry.ID(e.job_id), error=e.error) for e in outcome.errors],
    }
    if isinstance(outcome, services.GroupOutcome):
        fields.update(
            group_id=strawberry.ID(outcome.group_id),
            dry_run=outcome.dry_run,
            matched_count=outcome.matched_count,
        )
    return fields
