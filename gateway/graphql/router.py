"""Mounts the schema at /graphql with GraphiQL (page in gateway/docs_pages.py); the context
reuses the REST dependency provider."""

from __future__ import annotations

import json
from typing import Any, cast

import strawberry
from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.docs_pages import graphiql_page
from gateway.graphql.schema import schema as default_schema
from gateway.middleware import request_id_of
from gateway.rest.deps import ServiceDep, bind_instance, principal_of


async def _context(request: Request, service: ServiceDep) -> dict[str, Any]:
    # The service is bound to the request's API key: a missing or invalid key is refused by each
    # field that reads or changes data, with UNAUTHENTICATED, not by the HTTP layer.
    return {
        "service": service,
        "request_id": request_id_of(request.scope),
        # Several Redis instances (graphql/instances.py): `instance(name:)` binds its own.
        "instances": request.app.state.instances,
        "bind_instance": lambda name: bind_instance(request, name),
        "key_principal": principal_of(request),
        "by_instance_field": {},
    }


class _Router(GraphQLRouter):
    def parse_json(self, data: str | bytes) -> Any:
        """The request's JSON, or a 400: Strawberry turns only JSONDecodeError into one, so a body
        nested deeper than the decoder's recursion limit, bytes that are not UTF-8, or a body that
        is not an object were 500s."""
        try:
            value = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except RecursionError:
            raise HTTPException(400, "Invalid JSON: nested too deeply") from None
        except UnicodeDecodeError:
            raise HTTPException(400, "Invalid JSON: the body is not UTF-8") from None
        except ValueError as error:  # JSONDecodeError
            raise HTTPException(400, f"Invalid JSON: {error}") from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "Invalid request: expected a JSON object")
        return value

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """A request Strawberry refuses before execution (400) answers like every other GraphQL
        error, with BAD_REQUEST, and with `detail` as REST's errors and the 413 do."""
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as error:
            if error.status_code != 400:
                raise
            error_body = {"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}
            return JSONResponse({"detail": error.reason, "errors": [error_body]}, status_code=400)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error leaves with a code: syntax errors (a query over --graphql-max-tokens too)
        end before the schema extensions' error processing, so they get BAD_REQUEST here."""
        response = await super().process_result(request, result)
        # Strawberry types them as objects; they are graphql-core's formatted errors, dicts.
        for error in cast("list[dict[str, Any]]", response.get("errors") or []):
            extensions = error.setdefault("extensions", {})
            extensions.setdefault("code", "BAD_REQUEST")
        return response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the package's own files, not Strawberry's page that loads from a CDN."""
        return graphiql_page()


def graphql_router(schema: strawberry.Schema | None = None, graphiql: bool = True) -> GraphQLRouter:
    return _Router(
        schema or default_schema,
        context_getter=_context,
        graphql_ide="graphiql" if graphiql else None,
        include_in_schema=False,
    )
