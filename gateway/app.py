"""The ASGI application: REST routes, GraphQL and health probes over one JobService."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import redis
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from gateway import __version__
from gateway.apikeys import KeyRing
from gateway.config import Settings
from gateway.console_sign_on import sign_on_of
from gateway.docs_pages import install as install_pages
from gateway.errors import Forbidden, InstanceNotFound, InvalidInput, Unauthenticated
from gateway.graphql.router import graphql_router
from gateway.graphql.schema import build_schema
from gateway.live import LiveHub
from gateway.middleware import REQUEST_ID_HEADER, RequestGuards
from gateway.oidc import verifier_of
from gateway.redis_instances import instance_services
from gateway.request_metrics import RequestMetrics
from gateway.rest import audit, control, errors, health, jobs, lifecycle, rq3, schedules
from gateway.rest import groups as group_routes
from gateway.rest import history as history_routes
from gateway.rest import metrics as metrics_routes
from gateway.rest import operations as operation_routes
from gateway.rest import queues as queue_routes
from gateway.rest import search as search_routes
from gateway.rest import workers as worker_routes
from gateway.rest.deps import get_service
from gateway.rest.strict_query import refuse_unknown_query
from gateway.services import AuditTrail, history_sampling

DESCRIPTION = """Inspect, retry and clear RQ (Redis Queue) jobs.

The `/api/v1/jobs` endpoints follow the published Job Management API contract. The same data and
operations are available through GraphQL at `/graphql` (GraphiQL in a browser)."""


def _operation_id(route: APIRoute) -> str:
    return route.name


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Every process samples the queue history of every instance (in each instance's Redis a
    lease keeps one process its writer), and takes over tracked operations whose runner died,
    on every instance (services/operations)."""
    settings: Settings = app.state.settings
    services = app.state.instances.services()
    runners = [service.operations_runner for service in services]
    for runner in runners:
        runner.start_resuming()
    try:
        async with AsyncExitStack() as samplers:
            if not settings.no_history:
                for service in services:
                    await samplers.enter_async_context(
                        history_sampling(
                            service.connection,
                            settings.history_retention,
                            settings.history_lease,
                            settings.history_interval,
                            service.health.instance,
                        )
                    )
            yield
    finally:
        for runner in runners:
            runner.stop()


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
        lifespan=_lifespan,
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.settings = settings
    # The audit trail lives in the default instance, for operations on every instance too.
    operations_audit = AuditTrail(connection, settings.audit_maxlen, instances.service(None).health)
    for service in instances.services():
        service.use_operations(operations_audit, settings.bulk_max_rate)
        service.search_scan_limit = settings.search_scan_limit
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
    app.include_router(metrics_routes.router)
    app.include_router(history_routes.router)
    app.include_router(operation_routes.router)
    app.include_router(search_routes.router)
    app.include_router(control.jobs_router)
    app.include_router(control.workers_router)
    app.include_router(schedules.router)
    app.include_router(rq3.router)
    schema = build_schema(
        settings.graphql_max_depth,
        settings.graphql_max_aliases,
        settings.graphql_max_tokens,
        max_cost=settings.graphql_max_cost,
        introspection=settings.introspection,
    )
    app.include_router(graphql_router(schema, graphiql=settings.graphiql), prefix="/graphql")
    app.state.live = LiveHub(settings.max_websocket_connections, settings.max_subscriptions_per_connection)
    install_pages(app, ui=settings.ui, sign_on=sign_on_of(settings))
    install_security(app, settings, connection)
    app.add_middleware(RequestMetrics)  # outermost: 413s and CORS answers are counted too
    return app


def install_security(app: FastAPI, settings: Settings, connection: redis.Redis) -> None:
    """API keys, audit trail, request ids, body size limit and CORS (README "Security")."""
    app.state.keyring = KeyRing(settings.api_keys, verifier_of(settings))
    app.state.audit = AuditTrail(connection, settings.audit_maxlen, app.state.instances.service(None).health)
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
