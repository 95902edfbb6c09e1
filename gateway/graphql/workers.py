"""The workers query."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types import Worker


@strawberry.type
class WorkerQuery:
    @strawberry.field(
        description="Every live RQ worker, sorted by name. A key limited to queue patterns gets only "
        "the workers listening to one of its queues, each with only those queues, and a current job "
        "only when that job's queue is one of them."
    )
    async def workers(self, info: Info) -> list[Worker]:
        return [Worker.of(worker) for worker in await call_service(service_of(info).workers)]
