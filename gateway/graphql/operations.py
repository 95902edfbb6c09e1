"""Tracked operations: the same service calls as REST's /api/v1/operations routes."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.live import _follow, _Stream
from gateway.graphql.types.operations import Operation, OperationAction, OperationSelectorInput
from gateway.services import JobService, validate_idempotency_key, validate_listed
from gateway.services import Operation as OperationRecord


@strawberry.type
class OperationQuery:
    @strawberry.field(description="A tracked operation by id; null with a NOT_FOUND error when none.")
    async def operation(self, info: Info, id: strawberry.ID) -> Operation | None:
        return Operation.of(await call_service(service_of(info).operation, str(id)))

    @strawberry.field(
        description="The latest tracked operations, newest first (limit: 1 to 100); after: the id of "
        "the last operation of a page, for the older ones after it."
    )
    async def operations(
        self, info: Info, limit: int = 20, after: strawberry.ID | None = None
    ) -> list[Operation]:
        # `limit`, not `first`: a list, not a connection (first means a connection here). Checked
        # here, so the error names `limit`, as FastAPI checks REST's `?first=` before the key.
        listed = await call_service(_listed, service_of(info), limit, None if after is None else str(after))
        return [Operation.of(op) for op in listed]


@strawberry.type
class OperationMutation:
    @strawberry.mutation(
        description="Retry or delete the failed jobs a selector takes, in the background; watch it "
        "with operation(id). idempotencyKey answers the same operation for 24 h. A dry run acts on "
        "nothing and reports what the real operation would on the same data now."
    )
    async def start_operation(
        self,
        info: Info,
        action: OperationAction,
        selector: OperationSelectorInput,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> Operation:
        service = service_of(info)
        if idempotency_key is not None:  # named as this argument, not as REST's header
            await call_service(validate_idempotency_key, idempotency_key, "idempotencyKey")
        if selector.filter is not None:  # its bad dates named as this schema names them
            await call_service(selector.filter.parse)
        operation, _ = await call_service(
            service.start_operation, action.value, selector.as_dict(), queue, dry_run, idempotency_key
        )
        return Operation.of(operation)

    @strawberry.mutation(description="Stop a tracked operation before its next chunk.")
    async def cancel_operation(self, info: Info, id: strawberry.ID) -> Operation:
        return Operation.of(await call_service(service_of(info).cancel_operation, str(id)))


def _listed(service: JobService, limit: int, after: str | None) -> list[OperationRecord]:
    return service.operations(validate_listed(limit, "limit"), after)


def _operation_stream(operation_id: str, interval_ms: int, own: JobService, unbound: JobService) -> _Stream:
    own.operations(1)  # the role check, before the stream starts
    return _Stream(
        key=("operation", operation_id, interval_ms),
        read=partial(unbound.sight_operation, operation_id),  # one read per stream, shared (gateway/live)
        view=own.view_operation,
        show=Operation.of,
        changed_by=lambda operation: (
            operation.status,
            operation.done,
            operation.acted,
            operation.error_count,
        ),
    )


@strawberry.type
class OperationSubscription:
    @strawberry.subscription(
        description="A tracked operation at once, then each time its progress or status changes "
        "(checked every intervalMs, at least 500); the stream completes after the event whose "
        "status is no longer running."
    )
    async def operation(
        self, info: Info, id: strawberry.ID, interval_ms: int = 1000
    ) -> AsyncGenerator[Operation, None]:
        events = _follow(info, partial(_operation_stream, str(id), interval_ms), interval_ms)
        async for event in events:
            yield event
            if isinstance(event, Operation) and event.status != "running":
                return
