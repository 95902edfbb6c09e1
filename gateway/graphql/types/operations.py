"""Tracked operations: the selector input and the operation, field for field REST's."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from gateway import services
from gateway.graphql.types.bulk import JobError
from gateway.graphql.types.jobs import FailedJobFilterInput


@strawberry.enum
class OperationAction(Enum):
    RETRY = "retry"
    DELETE = "delete"


@strawberry.input(description="Exactly one field: which failed jobs of the queue the operation takes.")
class OperationSelectorInput:
    all: bool | None = strawberry.field(default=None, description="true: every failed job.")
    filter: FailedJobFilterInput | None = None
    group_id: str | None = strawberry.field(default=None, description="A failure group's id.")
    job_ids: list[strawberry.ID] | None = None
    query: str | None = strawberry.field(default=None, description="A search query (searchJobs).")

    def as_dict(self) -> dict[str, Any]:
        """The selector as REST's body holds it; the service checks there is exactly one."""
        given: dict[str, Any] = {}
        if self.all is not None:
            given["all"] = self.all
        if self.filter is not None:
            fields = dataclasses.asdict(self.filter)
            given["filter"] = {name: value for name, value in fields.items() if value is not None}
        if self.group_id is not None:
            given["group_id"] = self.group_id
        if self.job_ids is not None:
            given["job_ids"] = [str(job_id) for job_id in self.job_ids]
        if self.query is not None:
            given["query"] = self.query
        return given


@strawberry.type
class Operation:
    id: strawberry.ID
    action: str
    queue: str
    selector: JSON
    status: str = strawberry.field(description="running, succeeded, failed or canceled")
    total: int = strawberry.field(description="Jobs examined in all")
    done: int = strawberry.field(description="Jobs examined so far")
    matched: int = strawberry.field(description="Jobs examined so far that the selector took")
    acted: int = strawberry.field(description="Jobs retried or deleted so far")
    error_count: int
    errors: list[JobError] = strawberry.field(description="The first 100 errors")
    started_at: str
    finished_at: str | None
    key: str = strawberry.field(description="The API key that started it")
    dry_run: bool

    @classmethod
    def of(cls, operation: services.Operation) -> Operation:
        return cls(
            id=strawberry.ID(operation.id),
            action=operation.action,
            queue=operation.queue,
            selector=cast(JSON, operation.selector),
            status=operation.status,
            total=operation.total,
            done=operation.done,
            matched=operation.matched,
            acted=operation.acted,
            error_count=operation.error_count,
            errors=[JobError(job_id=strawberry.ID(e.job_id), error=e.error) for e in operation.errors],
            started_at=operation.started_at,
            finished_at=operation.finished_at,
            key=operation.key,
            dry_run=operation.dry_run,
        )
