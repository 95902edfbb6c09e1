"""Mounts the schema at /graphql with GraphiQL; the context reuses the REST dependency provider."""

from __future__ import annotations

from typing import Any

from strawberry.fastapi import GraphQLRouter

from gateway.graphql.schema import schema
from gateway.rest.deps import ServiceDep


async def _context(service: ServiceDep) -> dict[str, Any]:
    return {"service": service}


def graphql_router() -> GraphQLRouter:
    return GraphQLRouter(schema, context_getter=_context, graphql_ide="graphiql", include_in_schema=False)
