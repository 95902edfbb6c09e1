"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.errors import BackendUnavailable
from gateway.rest.deps import PublicServiceDep, principal_of
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
    still serve some instances stays in its load balancer ("degraded"). The probe needs no key,
    and its status is everyone's; with keys configured, an instance is named (and its failure
    told) only to a key that may see it, as every keyed route hides the others."""
    instances = request.app.state.instances
    if not instances.several:
        service.ping()
        return {"status": "ready"}
    report = instances.health()
    shown = _instances_shown(request)
    visible = [item for item in report if shown is None or item.name in shown]
    if not any(item.healthy for item in report):
        reasons = "; ".join(str(item.reason) for item in visible)
        raise BackendUnavailable("No Redis instance answers" + (f": {reasons}" if reasons else ""))
    return {
        "status": "ready" if all(item.healthy for item in report) else "degraded",
        "instances": [
            {"name": item.name, "healthy": item.healthy, "reason": item.reason} for item in visible
        ],
    }


def _instances_shown(request: Request) -> frozenset[str] | None:
    """The instances the caller may see by name (None: every one): none without a valid key
    where keys are configured."""
    caller = principal_of(request)
    if caller.role is None:
        return frozenset()
    return request.app.state.instances.visible_to(caller)
