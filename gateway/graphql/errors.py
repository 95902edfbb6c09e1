"""Domain errors to GraphQL errors: the same messages as REST `detail`, plus extensions.code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from gateway.errors import (
    BackendUnavailable,
    Conflict,
    Forbidden,
    GatewayError,
    InvalidInput,
    LimitExceeded,
    NotFound,
    Unauthenticated,
)

log = logging.getLogger(__name__)

CODE_BY_ERROR: dict[type[GatewayError], str] = {
    NotFound: "NOT_FOUND",
    InvalidInput: "BAD_REQUEST",
    BackendUnavailable: "SERVICE_UNAVAILABLE",
    Conflict: "CONFLICT",
    Unauthenticated: "UNAUTHENTICATED",
    Forbidden: "FORBIDDEN",
    LimitExceeded: "LIMIT_EXCEEDED",
}
# Requests Strawberry refuses before execution: over HTTP its view answers 400 for them; over the
# websocket they reach the errors as the original error of a GraphQLError, and are BAD_REQUEST.
_REFUSED_REQUESTS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)
INTERNAL = "INTERNAL"
INTERNAL_MESSAGE = "Internal server error"

T = TypeVar("T")


def code_for(error: GatewayError) -> str:
    for cls in type(error).__mro__:
        if cls in CODE_BY_ERROR:
            return CODE_BY_ERROR[cls]
    return INTERNAL


async def call_service(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking service call off the event loop, translating domain errors."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except GatewayError as error:
        raise GraphQLError(error.message, extensions={"code": code_for(error)}) from None


class ErrorCodes(MaskErrors):
    """Every error leaves with a code: unexpected exceptions are masked as INTERNAL (the log
    keeps the traceback), and parse or validation errors are BAD_REQUEST."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._unexpected, error_message=INTERNAL_MESSAGE)

    @staticmethod
    def _unexpected(error: GraphQLError) -> bool:
        original = error.original_error
        return original is not None and not isinstance(original, (GraphQLError, *_REFUSED_REQUESTS))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = context.get("request_id", "") if isinstance(context, dict) else ""
        log.error(
            "Unexpected error in GraphQL resolver (request %s)", request_id, exc_info=error.original_error
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL, "request_id": request_id}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "BAD_REQUEST"}
        return processed
