"""The ASGI application: REST routes, GraphQL and health probes over one JobService."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import redis
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from gateway import __version__
from gateway.apikeys import KeyRing
from gateway.config import Settings
from gateway.docs_pages import install as install_pages
from gateway.errors import Forbidden, InstanceNotFound, InvalidInput, Unauthenticated
from gateway.graphql.router import graphql_router
from gateway.graphql.schema import build_schema
from gateway.middleware import REQUEST_ID_HEADER, RequestGuards
from gateway.oidc import verifier_of
from gateway.redis_instances import instance_services
from gateway.rest import audit, errors, health, jobs, lifecycle
from gateway.rest import groups as group_routes
from gateway.rest import queues as queue_routes
from gateway.rest import workers as worker_routes
from gateway.rest.deps import get_service
from gateway.services import AuditTrail

DESCRIPTION = """Inspect, retry and clear RQ (Redis Queue) jobs.

The `/api/v1/jobs` endpoints follow the published Job Management API contract. The same data and
operations are available through GraphQL at `/graphql` (GraphiQL in a browser)."""


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None, connection: redis.Redis | None = None) -> FastAPI:
    """Build the app. Pass `connection` to reuse an existing client (tests, demo mode)."""
    settings = settings or Settings()
    instances = instance_services(settings, connection)
    connection = instances.service(None).connection
    app = FastAPI(
        title="rq-gateway",
        version=__version__,
        description=DESCRIPTION,
        generate_unique_id_function=_operation_id,
        # A redirect could turn a mistyped path into another resource's action (a 307 keeps DELETE).
        redirect_slashes=False,
        # FastAPI's own pages load from CDNs: /docs is served from the package (docs_pages).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.instances = instances
    app.state.service = instances.service(None)
    errors.install(app)
    # Before the jobs router: /failed/groups is also the path of DELETE /failed/{job_id} for a
    # job called "groups", and Starlette answers a wrong method with the first partial match's
    # Allow header, which must be the documented GET.
    app.include_router(group_routes.router)
    app.include_router(jobs.router)
    app.include_router(lifecycle.router)
    app.include_router(health.router)
    app.include_router(queue_routes.router)
    app.include_router(worker_routes.router)
    app.include_router(audit.router)
    schema = build_schema(
        settings.graphql_max_depth,
        settings.graphql_max_aliases,
        settings.graphql_max_tokens,
        max_cost=settings.graphql_max_cost,
        introspection=settings.introspection,
    )
    app.include_router(graphql_router(schema, graphiql=settings.graphiql), prefix="/graphql")
    install_pages(app)
    install_security(app, settings, connection)
    return app


def install_security(app: FastAPI, settings: Settings, connection: redis.Redis) -> None:
    """API keys, audit trail, request ids, body size limit and CORS (README "Security")."""
    app.state.keyring = KeyRing(settings.api_keys, verifier_of(settings))
    app.state.audit = AuditTrail(connection, settings.audit_maxlen)
    app.add_middleware(RequestGuards, max_body_size=settings.max_body_size)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    for route in _api_routes(app.routes):
        if _needs_key(route.dependant):
            route.responses = {**_AUTH_RESPONSES, **route.responses}


# Documented on every route that uses the keyed service, whichever router it comes from: it
# also takes `?instance=` (rest/deps.py), so an unknown instance's 404 and, as for any query
# parameter, a 422 in the gateway's error shape. A route's own descriptions come first.
_AUTH_RESPONSES = errors.error_responses(
    Unauthenticated, Forbidden, (InstanceNotFound, "No such Redis instance (`?instance=`)"), InvalidInput
)


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside routers that newer FastAPI versions include lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _needs_key(dependant: Dependant) -> bool:
    return any(dep.call is get_service or _needs_key(dep) for dep in dependant.dependencies)
