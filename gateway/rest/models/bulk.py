"""The answers of the bulk actions (retry-all, clear, the selected-ids and group actions): one
mapping of a BulkOutcome, `bulk_fields`, named by the action's verb."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from gateway.services import BulkOutcome, GroupOutcome


class JobError(BaseModel):
    job_id: str
    error: str


class RetryAll(BaseModel):
    success: bool
    total_failed: int
    requeued_count: int
    error_count: int
    requeued_jobs: list[str]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: BulkOutcome) -> RetryAll:
        return cls(**bulk_fields(outcome, "requeued"))


class Clear(BaseModel):
    success: bool
    total_failed: int
    deleted_count: int
    error_count: int
    deleted_jobs: list[str]
    errors: list[JobError]

    @classmethod
    def of(cls, outcome: BulkOutcome) -> Clear:
        return cls(**bulk_fields(outcome, "deleted"))


def bulk_fields(outcome: BulkOutcome, verb: Literal["requeued", "deleted"]) -> dict[str, Any]:
    """The documented keys of a bulk answer: `<verb>_count` and `<verb>_jobs` name what was done;
    a group action's answer adds the group's keys."""
    fields = {
        "success": outcome.success,
        "total_failed": outcome.total_failed,
        f"{verb}_count": outcome.done_count,
        "error_count": outcome.error_count,
        f"{verb}_jobs": outcome.done_jobs,
        "errors": [JobError(job_id=e.job_id, error=e.error) for e in outcome.errors],
    }
    if isinstance(outcome, GroupOutcome):
        fields.update(group_id=outcome.group_id, dry_run=outcome.dry_run, matched_count=outcome.matched_count)
    return fields
