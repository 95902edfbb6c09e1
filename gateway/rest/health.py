"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.errors import BackendUnavailable
from gateway.rest.deps import PublicServiceDep
from gateway.rest.errors import error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
async def healthz() -> dict[str, str]:
    """200 while the process runs."""
    # async: served on the event loop, so threads stuck on a frozen Redis cannot delay it.
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses=error_responses((BackendUnavailable, None)))
def readyz(service: PublicServiceDep) -> dict[str, str]:
    """200 only when Redis answers; 503 with Retry-After otherwise."""
    service.ping()
    return {"status": "ready"}
