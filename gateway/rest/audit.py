"""GET /api/v1/audit: the audit trail of mutations, newest first. Admin keys only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.errors import BackendUnavailable, InvalidInput
from gateway.rest import models
from gateway.rest.deps import ServiceDep
from gateway.rest.errors import error_responses
from gateway.services import MAX_PAGE_SIZE

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get(
    "",
    response_model=models.AuditLog,
    # Documented with the statuses' own phrases; the usual 503 text would change the OpenAPI file.
    responses=error_responses((InvalidInput, None), (BackendUnavailable, None)),
    name="audit_log",
)
def audit_log(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE_SIZE, description="Entries per page.")] = 100,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.", examples=["1764320000000-0"])
    ] = None,
) -> models.AuditLog:
    """Who retried, deleted or cleared what: one entry per mutation, refused ones included (not
    those of requests without a valid key: they are logged and counted only). A queue-limited
    admin key reads only the entries of its queues."""
    return models.AuditLog.of(service.audit_log(limit, cursor))
