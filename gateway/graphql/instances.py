"""Several Redis instances: `instances { name healthy }` and `instance(name:) { ... }`, whose
fields are the top-level query fields (the same resolvers) on that instance's service."""

from __future__ import annotations

import anyio
import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from gateway.graphql.context import remember_instance, service_of
from gateway.graphql.errors import call_service
from gateway.graphql.groups import GroupQuery
from gateway.graphql.jobs import JobQuery
from gateway.graphql.queues import QueueQuery
from gateway.graphql.workers import WorkerQuery

Instance = merge_types("Instance", (JobQuery, QueueQuery, WorkerQuery, GroupQuery))
Instance.__strawberry_definition__.description = (
    "One Redis instance of the gateway: the same queries as at the top level, on its data."
)


@strawberry.type(description="A Redis instance the gateway serves, and whether it answers now.")
class InstanceStatus:
    name: str
    healthy: bool
    reason: str | None = strawberry.field(description="Why it does not answer; null when healthy.")


@strawberry.type
class InstanceQuery:
    @strawberry.field(description="The Redis instances this API key may access, default first.")
    async def instances(self, info: Info) -> list[InstanceStatus]:
        await call_service(service_of(info).check_caller)  # authenticated, at least a viewer
        principal = info.context["key_principal"]
        instances = info.context["instances"]
        names = [name for name in instances.names if instances.may_access(principal, name)]
        report = await anyio.to_thread.run_sync(instances.health, names)
        return [InstanceStatus(name=item.name, healthy=item.healthy, reason=item.reason) for item in report]

    @strawberry.field(
        description="The queries of one Redis instance, by its configured name. NOT_FOUND for "
        "a name the gateway is not configured with; SERVICE_UNAVAILABLE (naming it) when it is down."
    )
    async def instance(self, info: Info, name: str) -> Instance | None:  # pyright: ignore[reportInvalidTypeForm]  -- a type built at runtime
        service = await call_service(remember_instance, info, name)
        await call_service(service.check_caller)
        return Instance()
