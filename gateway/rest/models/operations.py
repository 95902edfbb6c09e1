"""Tracked operations (README "Tracked operations"): the request that starts one, and the
operation as GET answers it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.rest.models.bulk import JobError
from gateway.services import Operation as OperationResult


class OperationRequest(BaseModel):
    # An unknown field is a 422, not dropped: a REST body spelling GraphQL's `dryRun` would
    # otherwise start the real retry or delete it meant to preview.
    model_config = ConfigDict(extra="forbid")

    action: Literal["retry", "delete"] = Field(
        description="retry needs an operator key, delete an admin key."
    )
    queue: str | None = Field(default=None, description="The queue; without it, the gateway's default queue.")
    selector: dict[str, Any] = Field(
        description='Exactly one of {"all": true}, {"filter": {"func_name", "exc_type", "search", '
        '"failed_after", "failed_before"}}, {"group_id": "..."}, {"job_ids": [...]}, '
        '{"query": "..."} (a search query, as GET /api/v1/search takes).',
        examples=[{"all": True}, {"filter": {"exc_type": "ValueError"}}],
    )
    dry_run: bool = Field(
        default=False, description="Act on nothing: answer 200 with the number of jobs matched."
    )


class Operation(BaseModel):
    id: str
    action: str
    queue: str
    selector: dict[str, Any]
    status: str = Field(description="running, succeeded, failed or canceled")
    total: int = Field(
        description="Jobs examined in all: the failed registry when it started, or the ids named"
    )
    done: int = Field(description="Jobs examined so far")
    matched: int = Field(description="Jobs examined so far that the selector took")
    acted: int = Field(description="Jobs retried or deleted so far")
    error_count: int
    errors: list[JobError] = Field(description="The first 100 errors")
    started_at: str
    finished_at: str | None
    key: str = Field(description="The API key that started it")
    dry_run: bool

    @classmethod
    def of(cls, operation: OperationResult) -> Operation:
        return cls(
            id=operation.id,
            action=operation.action,
            queue=operation.queue,
            selector=operation.selector,
            status=operation.status,
            total=operation.total,
            done=operation.done,
            matched=operation.matched,
            acted=operation.acted,
            error_count=operation.error_count,
            errors=[JobError(job_id=e.job_id, error=e.error) for e in operation.errors],
            started_at=operation.started_at,
            finished_at=operation.finished_at,
            key=operation.key,
            dry_run=operation.dry_run,
        )


class OperationList(BaseModel):
    operations: list[Operation]
    next_cursor: str | None = Field(
        default=None, description="Pass as ?after= for the next (older) page; null when there is none"
    )
