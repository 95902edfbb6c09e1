"""The audit trail as a connection, newest first. Admin keys only (FORBIDDEN otherwise)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.types import PageInfo
from gateway.services import AuditEntry as AuditEntryRecord
from gateway.services import AuditPage


@strawberry.type(description="One audited mutation, refused or not.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="The stream entry id; also the entry's cursor.")
    time: str
    request_id: str
    key: str = strawberry.field(description="Name of the API key, or `anonymous`.")
    action: str
    queue: str | None
    job_count: int
    job_ids: list[str] = strawberry.field(description="The first 10 job ids.")
    outcome: str = strawberry.field(description="`ok`, `refused` or `error`.")
    error: str | None = strawberry.field(description="The error, e.g. `Forbidden`, `FailedJobNotFound`.")
    worker: str | None = strawberry.field(description="The worker a worker command addressed.")
    operation_id: str | None = strawberry.field(
        description="The tracked operation a start, cancel or finish record is about."
    )
    selector_kind: str | None = strawberry.field(
        description="An operation's finish: its selector's kind (all, filter, group_id, job_ids, query)."
    )

    @classmethod
    def of(cls, entry: AuditEntryRecord) -> AuditEntry:
        return cls(
            id=strawberry.ID(entry.cursor),
            time=entry.time,
            request_id=entry.request_id,
            key=entry.key,
            action=entry.action,
            queue=entry.queue,
            job_count=entry.job_count,
            job_ids=entry.job_ids,
            outcome=entry.outcome,
            error=entry.error,
            worker=entry.worker,
            operation_id=entry.operation_id,
            selector_kind=entry.selector_kind,
        )


@strawberry.type
class AuditEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditConnection:
    total_count: int = strawberry.field(
        description="Entries kept in the capped stream; for a queue-limited key, those of its queues."
    )
    nodes: list[AuditEntry]
    edges: list[AuditEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: AuditPage) -> AuditConnection:
        nodes = [AuditEntry.of(entry) for entry in page.entries]
        return cls(
            total_count=page.total,
            nodes=nodes,
            edges=[AuditEdge(cursor=str(node.id), node=node) for node in nodes],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="The audit trail of mutations, newest first. Needs an admin key; a queue-limited "
        "one reads only its queues' records."
    )
    async def audit_log(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> AuditConnection:
        size = 100 if first is None else first
        return AuditConnection.of(await call_service(service_of(info).audit_log, size, after))
