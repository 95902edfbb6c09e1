"""Tracked operations under /api/v1/operations: start one (202 + Location), watch it, list the
latest, cancel it. The work runs in the background and survives the process (services/operations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from gateway.errors import BackendUnavailable, Conflict, InvalidInput, InvalidParameter, NotFound
from gateway.rest import models
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.rest.models.operations import Operation, OperationList, OperationRequest

router = APIRouter(prefix="/api/v1/operations", tags=["operations"])

_START_ERRORS = error_responses(
    (NotFound, "The queue named is one RQ does not know"),
    (InvalidInput, "Invalid action, queue, selector or Idempotency-Key"),
    BackendUnavailable,
)
_REPLAY_ERRORS = error_responses(
    (Conflict, "A replayed Idempotency-Key whose operation can no longer be read (deleted or damaged)")
)
_ONE_ERRORS = error_responses(
    (NotFound, "No such operation (or not on a queue this key may access)"),
    (InvalidInput, "Invalid operation id"),
    BackendUnavailable,
)

OperationIdPath = Annotated[
    str,
    Path(
        description="An operation id: 32 lowercase hex digits.",
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        json_schema_extra={"pattern": "^[0-9a-f]{32}$"},
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request safely: the same key (per API key) answers the operation it "
        "started, for 24 h, instead of starting another.",
    ),
]


@router.post(
    "",
    status_code=202,
    response_model=Operation,
    responses={
        200: {"model": Operation, "description": "A dry run: nothing acted on"},
        **_START_ERRORS,
        **_REPLAY_ERRORS,
    },
    name="start_operation",
)
def start_operation(
    body: OperationRequest, service: ServiceDep, response: Response, idempotency_key: IdempotencyKey = None
) -> Operation:
    """Start retrying or deleting the failed jobs a selector takes, in the background, a bounded
    chunk at a time. Answers 202 with the operation and its `Location`; a dry run answers 200
    and acts on nothing, reporting what the real operation would on the same data now."""
    operation, new = service.start_operation(
        body.action, body.selector, body.queue, body.dry_run, _idempotency_key_text(idempotency_key)
    )
    if operation.dry_run:
        response.status_code = 200
    else:
        response.headers["Location"] = f"{router.prefix}/{operation.id}"
        if not new:
            response.headers["Idempotent-Replayed"] = "true"
    return Operation.of(operation)


@router.get("", response_model=OperationList, responses=_START_ERRORS, name="list_operations")
def list_operations(
    service: ServiceDep,
    first: Annotated[int, Query(ge=1, le=100, description="How many")] = 20,
    after: Annotated[
        str | None, Query(description="A next_cursor: the page after it (older operations)")
    ] = None,
) -> OperationList:
    """The latest operations, newest first; `next_cursor` pages to older ones."""
    operations, next_cursor = service.operations_page(first, after)
    return OperationList(operations=[Operation.of(op) for op in operations], next_cursor=next_cursor)


@router.get("/{operation_id}", response_model=Operation, responses=_ONE_ERRORS, name="get_operation")
def get_operation(operation_id: OperationIdPath, service: ServiceDep) -> Operation:
    """Status and progress, as the last chunk recorded it, from any gateway process."""
    return Operation.of(service.operation(operation_id))


@router.post(
    "/{operation_id}/cancel", response_model=Operation, responses=_ONE_ERRORS, name="cancel_operation"
)
def cancel_operation(operation_id: OperationIdPath, service: ServiceDep) -> Operation:
    """Stop before the next chunk: jobs already acted on stay so. An ended operation is
    answered as it is."""
    return Operation.of(service.cancel_operation(operation_id))


def _idempotency_key_text(value: str | None) -> str | None:
    """The Idempotency-Key header as the UTF-8 text its client sent. HTTP carries headers as
    bytes, which the server reads as Latin-1; a key read so would not be the same key as the same
    text sent to GraphQL."""
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise InvalidParameter("Idempotency-Key must be UTF-8 text") from None


__all__ = ["models", "router"]
