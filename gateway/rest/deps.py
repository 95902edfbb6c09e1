"""FastAPI dependency providers, shared by the REST routes and the GraphQL context."""

# No `from __future__ import annotations` here: FastAPI before 0.116 cannot resolve the string
# annotations of a callable instance's __call__ (it reads them from a function's __globals__).

from typing import Annotated, Any

import anyio
from fastapi import Depends, Query, Request
from fastapi.security import HTTPBearer

from gateway.errors import Unauthenticated
from gateway.logs import note_key
from gateway.middleware import request_id_of
from gateway.services import (
    ANONYMOUS,
    DOCUMENTED_QUEUE_NAME_PATTERN,
    JobService,
    Principal,
    RequestScope,
)

InstanceParam = Annotated[
    str | None,
    Query(
        description="Redis instance to act on, by its configured name (`--redis NAME=URL`). "
        "Without it, the default instance.",
    ),
]


class _ServiceForKey(HTTPBearer):
    """The service bound to this request's principal (from `Authorization: Bearer <key>`).

    One dependency that is also the declared HTTP bearer scheme (so /docs has its "Authorize"
    button): a separate HTTPBearer sub-dependency cost every request a second dependency solve,
    about a tenth of the stats endpoint's event-loop time. A missing key is not refused here but
    by the service's guard when the request calls a guarded operation, so REST and GraphQL
    refuse (and audit) it the same way."""

    async def __call__(self, request: Request, instance: InstanceParam = None) -> JobService:
        # async: a plain def dependency would take a threadpool slot just to read an attribute.
        if request.app.state.keyring.tokens is not None:
            # A bearer JWT may need the issuer's keys fetched: never on the event loop.
            service = await anyio.to_thread.run_sync(bind_instance, request, instance)
        else:
            service = bind_instance(request, instance)
        # Here, not in bind_instance: a context variable set in a worker thread stays there.
        note_key(service.scope.principal.name if service.scope is not None else ANONYMOUS.name)
        return service


def principal_of(request: Request) -> Principal:
    """The caller as its API key says, on every instance (before `INSTANCE:QUEUE` patterns apply)."""
    return request.app.state.keyring.principal(request.headers.get("authorization"), ANONYMOUS)


def bind_instance(request: Request, instance: str | None) -> JobService:
    """The service of Redis instance `instance` (None: the default), bound to this request's
    principal as that instance sees it (its `INSTANCE:QUEUE` key patterns). Every route that uses
    the keyed service takes `?instance=` through this, and GraphQL's `instance(name:)` too.
    Unknown names are InstanceNotFound (404), and so, to a key, are those of instances where its
    queue patterns allow no queue (Instances.service_for)."""
    return bind_principal(request.app.state, principal_of(request), instance, request_id_of(request.scope))


def bind_principal(state: Any, caller: Principal, instance: str | None, request_id: str) -> JobService:
    """bind_instance for a caller already authenticated (a websocket's connection_init key)."""
    instances = state.instances
    if instance is not None and instance not in instances.names and caller.role is None:
        # Authentication first: without a valid key, the names of instances are not told.
        raise Unauthenticated(caller.refusal)
    service = instances.service_for(caller, instance)
    principal = instances.principal_for(caller, instance or instances.default)
    seen = instances.visible_to(caller)
    scope = RequestScope(principal, request_id, state.audit, state.settings.hide_payloads, instances=seen)
    return service.scoped(scope)


get_service = _ServiceForKey(
    auto_error=False, scheme_name="HTTPBearer", description="An API key from `rq-gateway keys create`."
)


async def get_public_service(request: Request) -> JobService:
    """The unbound service, for the open health probes."""
    return request.app.state.service


ServiceDep = Annotated[JobService, Depends(get_service)]
PublicServiceDep = Annotated[JobService, Depends(get_public_service)]
QueueParam = Annotated[
    str | None,
    Query(
        description="Queue name: any name RQ accepts, 1 to 512 characters without control "
        "characters, percent-encoded. Without it, the gateway's default queue.",
        examples=["default"],
        # Documented only: the service checks it, with its own message (a 422 `detail`).
        json_schema_extra={"pattern": DOCUMENTED_QUEUE_NAME_PATTERN},
    ),
]
