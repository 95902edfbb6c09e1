"""A REST mutation refuses the query parameters it does not take, with a 422 that names them.

A misspelt `?dryrun=true` on retry-all, or `?dry-run=1` on clear, was dropped as unknown, and the
real retry or delete ran where the caller asked for a preview (found black-box, session 14). Reads
still ignore unknown parameters: a dashboard's cache-buster (jQuery's `_=`) changes nothing, and a
read misspelt acts on nothing. What a mutation takes is what its OpenAPI operation declares, so
the refusal, the documentation and /docs never disagree."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from gateway.errors import InvalidParameter

MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NAMES_SHOWN = 5  # a hostile request may send thousands
NAME_SHOWN = 64


async def refuse_unknown_query(connection: HTTPConnection) -> None:
    """An app-wide dependency: a no-op for reads, GraphQL, websockets (an HTTPConnection, as a
    `Request` parameter fails a websocket route) and routes outside the OpenAPI."""
    if connection.scope["type"] != "http" or not connection.query_params:
        return
    request = Request(connection.scope)
    route = request.scope.get("route")
    if request.method not in MUTATIONS or not isinstance(route, APIRoute):
        return
    declared = _declared(request, route)
    if declared is None:
        return
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        names = ", ".join(repr(name[:NAME_SHOWN]) for name in unknown[:NAMES_SHOWN])
        more = f" and {len(unknown) - NAMES_SHOWN} more" if len(unknown) > NAMES_SHOWN else ""
        takes = ", ".join(sorted(declared)) or "none"
        raise InvalidParameter(
            f"Unknown query parameter {names}{more}: {request.method} {route.path_format} takes {takes}"
        )


def _declared(request: Request, route: APIRoute) -> frozenset[str] | None:
    """The query parameters of the route's OpenAPI operation (None: the route is not in it)."""
    app = request.app
    by_route: dict[tuple[str, str], frozenset[str]] | None = getattr(app.state, "query_parameters", None)
    if by_route is None:
        by_route = {
            (method.upper(), path): frozenset(
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query"
            )
            for path, operations in app.openapi()["paths"].items()
            for method, operation in operations.items()
        }
        app.state.query_parameters = by_route
    return by_route.get((request.method, route.path_format))
