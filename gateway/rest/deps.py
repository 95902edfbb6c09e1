"""FastAPI dependency providers, shared by the REST routes and the GraphQL context."""

# No `from __future__ import annotations` here: FastAPI before 0.116 cannot resolve the string
# annotations of a callable instance's __call__ (it reads them from a function's __globals__).

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPBearer

from gateway.logs import note_key
from gateway.middleware import request_id_of
from gateway.services import ANONYMOUS, DOCUMENTED_QUEUE_NAME_PATTERN, JobService, RequestScope


class _ServiceForKey(HTTPBearer):
    """The service bound to this request's principal (from `Authorization: Bearer <key>`).

    One dependency that is also the declared HTTP bearer scheme (so /docs has its "Authorize"
    button): a separate HTTPBearer sub-dependency cost every request a second dependency solve,
    about a tenth of the stats endpoint's event-loop time. A missing key is not refused here but
    by the service's guard when the request calls a guarded operation, so REST and GraphQL
    refuse (and audit) it the same way."""

    async def __call__(self, request: Request) -> JobService:
        # async: a plain def dependency would take a threadpool slot just to read an attribute.
        state = request.app.state
        principal = state.keyring.principal(request.headers.get("authorization"), ANONYMOUS)
        note_key(principal.name)
        scope = RequestScope(
            principal, request_id_of(request.scope), state.audit, state.settings.hide_payloads
        )
        return state.service.scoped(scope)


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
