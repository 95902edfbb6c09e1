"""FastAPI dependency providers, shared by the REST routes and the GraphQL context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from gateway.services import JobService


async def get_service(request: Request) -> JobService:
    # async: a plain def dependency would take a threadpool slot just to read an attribute.
    return request.app.state.service


ServiceDep = Annotated[JobService, Depends(get_service)]
QueueParam = Annotated[
    str | None,
    Query(description="Queue name; defaults to the gateway's default queue.", examples=["default"]),
]
