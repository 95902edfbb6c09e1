"""Domain errors to HTTP answers: one table, one handler, registered once on the app, and the
routes' documented error responses built from the same table."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

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
from gateway.middleware import REQUEST_ID_HEADER, request_id_of
from gateway.rest.models.errors import ErrorDetail

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[GatewayError], int] = {
    NotFound: 404,
    InvalidInput: 422,
    BackendUnavailable: 503,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    LimitExceeded: 429,
}


# What an error means whatever the route; a route may still say it its own way.
_DESCRIPTIONS: dict[type[GatewayError], str] = {
    BackendUnavailable: "Redis is unavailable; see Retry-After",
    Conflict: "The job is not in a state the action applies to",
    Unauthenticated: "No API key, or an unknown one (see WWW-Authenticate)",
    Forbidden: "The API key's role or queue patterns do not allow this",
}

Documented = type[GatewayError] | tuple[type[GatewayError], str | None]


def error_responses(*errors: Documented) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route that can raise these errors: each at its status from
    STATUS_BY_ERROR, with the {"detail"} body. An error alone takes its usual description (none:
    the status's own phrase); an `(error, description)` pair says what it means on this route,
    `(error, None)` the status's phrase."""
    responses: dict[int | str, dict[str, Any]] = {}
    for documented in errors:
        if isinstance(documented, tuple):
            error, description = documented
        else:
            error, description = documented, _DESCRIPTIONS.get(documented)
        response: dict[str, Any] = {"model": ErrorDetail}
        if description is not None:
            response["description"] = description
        responses[_status_of(error)] = response
    return responses


def status_for(error: GatewayError) -> int:
    return _status_of(type(error))


def _status_of(error: type[GatewayError]) -> int:
    for cls in error.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(error: GatewayError) -> JSONResponse:
    status = status_for(error)
    headers = {"Retry-After": str(BackendUnavailable.retry_after_seconds)} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse({"detail": error.message}, status_code=status, headers=headers)


async def _gateway_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GatewayError)
    return error_response(error)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # Runs outside the request-id middleware (Starlette's outermost layer), so it sets the header.
    request_id = request_id_of(request.scope)
    log.error(
        "Unexpected error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=error,
    )
    return JSONResponse(
        {"detail": "Internal server error", "request_id": request_id},
        status_code=500,
        headers={REQUEST_ID_HEADER: request_id},
    )


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's own parameter checks, answered in the same {"detail": str} shape as ours."""
    assert isinstance(error, RequestValidationError)
    problems = [_problem(item, request.headers.get("content-type")) for item in error.errors()]
    return JSONResponse({"detail": "Invalid request: " + "; ".join(problems)}, status_code=422)


def _problem(item: Any, content_type: str | None) -> str:
    """One problem, said in the caller's terms. A body that is not there, or not sent as JSON,
    is named as such: FastAPI reads a body sent as text/plain or as a form (`curl -d` without a
    header) as no JSON object at all, and pydantic's own words for that name no Content-Type."""
    where = ".".join(str(part) for part in item["loc"][1:]) or str(item["loc"][0])
    if tuple(item["loc"]) == ("body",):
        if item["type"] == "missing":
            return "body: a JSON object is required"
        if "json" not in (content_type or "").lower():
            return (
                "body: send it as JSON, with Content-Type: application/json (this request's "
                f"Content-Type is {content_type or 'missing'})"
            )
    return f"{where}: {item['msg']}"


_UNDECODABLE_BODY = "There was an error parsing the body"
_UNREADABLE_BODY = (
    "Invalid request: the body cannot be read as JSON (it is not UTF-8, is nested too deeply, or "
    "holds a number of over 4300 digits)"
)


async def _http_error(request: Request, error: Exception) -> Response:
    """FastAPI's own HTTP errors, unchanged, except a body its JSON decoder cannot take (FastAPI's
    400, the same for bytes that are not UTF-8, for nesting past the decoder's recursion limit and
    for an integer past its digit limit): bad input is a 422 everywhere else, JSON syntax errors
    included."""
    assert isinstance(error, HTTPException)
    if error.status_code == 400 and error.detail == _UNDECODABLE_BODY:
        return JSONResponse({"detail": _UNREADABLE_BODY}, status_code=422)
    return await http_exception_handler(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(HTTPException, _http_error)
