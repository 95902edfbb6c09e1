"""Failure groups, and the answers of a group retry or delete: a bulk answer plus the group's
keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway import services
from gateway.rest.models.bulk import Clear, RetryAll, bulk_fields
from gateway.rest.models.examples import examples_of


class FailureGroup(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "a8d494807ed75704",
                    "kind": "failure",
                    "func_name": "gateway.demo.jobs.parse_report",
                    "exc_type": "ValueError",
                    "message": "ValueError: malformed report header in <str>",
                    "count": 42,
                    "first_failed_at": "2024-01-01T02:10:00.000000Z",
                    "last_failed_at": "2024-01-01T03:55:00.000000Z",
                    "sample_job_id": "abc-123",
                }
            ]
        }
    )

    group_id: str = Field(description="Stable id of the cause: the same cause has the same id on every call.")
    kind: str = Field(
        description='"failure"; "orphan" for entries whose job data is gone; "unreadable" for jobs '
        "whose function cannot be decoded."
    )
    func_name: str | None
    exc_type: str | None = Field(
        description="Class of the raised exception (the outermost of a chain), as the traceback names it."
    )
    message: str | None = Field(
        description="The raised exception's line (type and first message line; for an exception group, "
        "its message and its leaf exceptions' types) with numbers, hex, UUIDs, timestamps and quoted "
        "values replaced by placeholders."
    )
    count: int
    first_failed_at: str | None = Field(
        description="Earliest ended_at of the group's jobs (ISO 8601 UTC, Z)."
    )
    last_failed_at: str | None = Field(description="Latest ended_at of the group's jobs.")
    sample_job_id: str = Field(description="The member that failed last.")

    @classmethod
    def of(cls, group: services.FailureGroup) -> FailureGroup:
        return cls(**group.__dict__)


class FailureGroups(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "groups": list(examples_of(FailureGroup)),
                    "total_failed": 45,
                }
            ]
        }
    )

    groups: list[FailureGroup] = Field(description="Largest group first, then by group_id.")
    total_failed: int = Field(
        description="Entries of the failed registry when the walk began; for a key limited to queue "
        "patterns, those whose job's origin is the queue (the jobs its groups hold)."
    )

    @classmethod
    def of(cls, result: services.FailureGroups) -> FailureGroups:
        return cls(groups=[FailureGroup.of(g) for g in result.groups], total_failed=result.total_failed)


class _GroupAction(BaseModel):
    group_id: str
    dry_run: bool = Field(description="True when nothing was changed: the lists say what would be done.")
    matched_count: int = Field(description="Members of the group found in the failed registry.")


_GROUP_IDS: list[JsonValue] = ["job-1", "job-2"]


class GroupRetry(_GroupAction, RetryAll):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "total_failed": 45,
                    "requeued_count": 2,
                    "error_count": 0,
                    "requeued_jobs": _GROUP_IDS,
                    "errors": [],
                    "group_id": "a8d494807ed75704",
                    "dry_run": False,
                    "matched_count": 2,
                }
            ]
        }
    )

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> GroupRetry:
        return cls(**bulk_fields(outcome, "requeued"))


class GroupDelete(_GroupAction, Clear):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "total_failed": 45,
                    "deleted_count": 2,
                    "error_count": 0,
                    "deleted_jobs": _GROUP_IDS,
                    "errors": [],
                    "group_id": "a8d494807ed75704",
                    "dry_run": True,
                    "matched_count": 2,
                }
            ]
        }
    )

    @classmethod
    def of(cls, outcome: services.GroupOutcome) -> GroupDelete:
        return cls(**bulk_fields(outcome, "deleted"))
