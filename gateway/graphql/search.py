"""searchJobs: the same service call as REST's GET /api/v1/search, as a Relay-style connection
with `scanned` and `complete` (README "Search")."""

from __future__ import annotations

from contextvars import ContextVar

import strawberry
from strawberry.types import Info

from gateway.graphql.budget import OperationBudget
from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service
from gateway.graphql.queues import JobState
from gateway.graphql.types import Job, JobEdge, PageInfo
from gateway.services import SearchPage


@strawberry.type(description="Jobs matching a search, in scan order, and how far the scan got.")
class SearchJobConnection:
    nodes: list[Job]
    edges: list[JobEdge]
    page_info: PageInfo = strawberry.field(
        description="endCursor goes on where this request stopped: after its last job when the page "
        "is full, else after the last job examined. hasNextPage is false once complete."
    )
    scanned: int = strawberry.field(
        description="Jobs of the queues searched this request examined (at most --search-scan-limit)."
    )
    complete: bool = strawberry.field(description="True when every job in scope was examined.")

    @classmethod
    def of(cls, page: SearchPage) -> SearchJobConnection:
        nodes = [Job.of(job) for job in page.jobs]
        return cls(
            nodes=nodes,
            edges=[JobEdge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
            page_info=PageInfo(has_next_page=not page.complete, end_cursor=page.next_cursor),
            scanned=page.scanned,
            complete=page.complete,
        )


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Jobs matching `query` (id:, func:, exc:, status:, queue:, args:TEXT, "
        "kwargs.NAME:VALUE, meta.NAME:VALUE, free text; all must hold) across every queue the API "
        "key may access, or `queue`; in every registry and the queue itself, or `state`. One "
        "request examines at most --search-scan-limit jobs: pass endCursor as `after` to go on."
    )
    async def search_jobs(
        self,
        info: Info,
        query: str = "",
        queue: str | None = None,
        state: JobState | None = None,  # pyright: ignore[reportInvalidTypeForm]  -- an enum built at runtime from STATES
        first: int | None = 100,
        after: str | None = None,
    ) -> SearchJobConnection:
        size = 100 if first is None else first
        state_name = state.value if state is not None else None
        service = service_of(info)
        budget = SearchScanBudget.budget.get()
        if budget is None:  # a schema built without SearchScanBudget
            return SearchJobConnection.of(
                await call_service(service.search, query, queue, state_name, size, after)
            )
        async with budget.turn:
            left = service.search_scan_limit if budget.left is None else budget.left
            page = await call_service(service.search, query, queue, state_name, size, after, left)
            budget.left = max(left - page.scanned, 0)
        return SearchJobConnection.of(page)


class SearchScanBudget(OperationBudget):
    """One --search-scan-limit per executed operation, as per REST request (README "Search"):
    without it, each of 30 aliases of searchJobs would examine as many jobs as one request may.
    Its `left` is None until the first search's service sets it."""

    budget = ContextVar("search_scan_budget", default=None)
