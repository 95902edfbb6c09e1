"""The `viewer` query: the caller's key name, role and queue patterns, for clients such as the
console that show only the controls a key may use. The server checks every call regardless."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.services import CallerInfo


@strawberry.type(description="The caller, as its API key says.")
class Viewer:
    name: str = strawberry.field(description="The API key's name, or `anonymous` when no keys are set.")
    role: str = strawberry.field(description="`viewer`, `operator` or `admin`.")
    queue_patterns: list[str] = strawberry.field(
        description="The key's queue patterns (fnmatch); empty means every queue."
    )
    payloads_hidden: bool = strawberry.field(
        description="Whether `--hide-payloads` shows this key jobs' args, kwargs and result as null."
    )

    @classmethod
    def of(cls, caller: CallerInfo) -> Viewer:
        return cls(
            name=caller.name,
            role=caller.role,
            queue_patterns=list(caller.queue_patterns),
            payloads_hidden=caller.payloads_hidden,
        )


@strawberry.type
class ViewerQuery:
    @strawberry.field(
        description="Who the caller is. UNAUTHENTICATED without a valid key when keys are configured."
    )
    async def viewer(self, info: Info) -> Viewer:
        return Viewer.of(await call_service(service_of(info).caller))
