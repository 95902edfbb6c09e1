"""The ASGI application: REST routes, GraphQL and health probes over one JobService."""

from __future__ import annotations

import redis
from fastapi import FastAPI
from fastapi.routing import APIRoute

from gateway import __version__
from gateway.config import Settings, connect
from gateway.graphql.router import graphql_router
from gateway.rest import errors, health, jobs, lifecycle
from gateway.rest import groups as group_routes
from gateway.rest import queues as queue_routes
from gateway.rest import workers as worker_routes
from gateway.services import JobService

DESCRIPTION = """Inspect, retry and clear RQ (Redis Queue) jobs.

The `/api/v1/jobs` endpoints follow the published Job Management API contract. The same data and
operations are available through GraphQL at `/graphql` (GraphiQL in a browser)."""


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None, connection: redis.Redis | None = None) -> FastAPI:
    """Build the app. Pass `connection` to reuse an existing client (tests, demo mode)."""
    settings = settings or Settings()
    if connection is None:
        connection = connect(settings)
    app = FastAPI(
        title="rq-gateway",
        version=__version__,
        description=DESCRIPTION,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.service = JobService(
        connection, default_queue=settings.default_queue, serializer=settings.serializer
    )
    errors.install(app)
    # Before the jobs router: /failed/groups must not be read as a job id.
    app.include_router(group_routes.router)
    app.include_router(jobs.router)
    app.include_router(lifecycle.router)
    app.include_router(health.router)
    app.include_router(queue_routes.router)
    app.include_router(worker_routes.router)
    app.include_router(graphql_router(), prefix="/graphql")
    return app
