"""Mounts the schema at /graphql with GraphiQL (page in gateway/docs_pages.py); the context
reuses the REST dependency provider."""

from __future__ import annotations

from typing import Any

import strawberry
from fastapi import Request
from fastapi.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.docs_pages import graphiql_page
from gateway.graphql.schema import schema as default_schema
from gateway.middleware import request_id_of
from gateway.rest.deps import ServiceDep


async def _context(request: Request, service: ServiceDep) -> dict[str, Any]:
    # The service is bound to the request's API key: a missing or invalid key is refused by each
    # field that reads or changes data, with UNAUTHENTICATED, not by the HTTP layer.
    return {"service": service, "request_id": request_id_of(request.scope)}


class _Router(GraphQLRouter):
    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error leaves with a code: syntax errors (a query over --graphql-max-tokens too)
        end before the schema extensions' error processing, so they get BAD_REQUEST here."""
        response = await super().process_result(request, result)
        for error in response.get("errors") or ():
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
