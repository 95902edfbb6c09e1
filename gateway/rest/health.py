"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

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
def readyz(request: Request, service: PublicServiceDep) -> dict[str, Any]:
    """200 only when Redis answers; 503 with Retry-After otherwise. With several Redis instances,
    `instances` reports each, and the answer is 503 only when none answers: a replica that can
    still serve some instances stays in its load balancer ("degraded")."""
    instances = request.app.state.instances
    if not instances.several:
        service.ping()
        return {"status": "ready"}
    report = [
        {"name": item.name, "healthy": item.healthy, "reason": item.reason} for item in instances.health()
    ]
    if not any(item["healthy"] for item in report):
        raise BackendUnavailable("No Redis instance answers: " + "; ".join(str(i["reason"]) for i in report))
    healthy = all(item["healthy"] for item in report)
    return {"status": "ready" if healthy else "degraded", "instances": report}
