"""`Queue.history`: a queue's per-minute history, the twin of GET /api/v1/queues/{queue}/history."""

from __future__ import annotations

from contextvars import ContextVar

import strawberry
from strawberry.types import Info

from gateway import services
from gateway.graphql.budget import OperationBudget
from gateway.graphql.context import service_of
from gateway.graphql.errors import call_service


@strawberry.type(description="`step` minutes of one queue; a field is null where nothing was sampled.")
class HistoryBucket:
    start: str = strawberry.field(description="Start of the bucket, ISO 8601 UTC.")
    failed: int | None = strawberry.field(description="Jobs that failed in the bucket (by endedAt).")
    finished: int | None = strawberry.field(description="Jobs that finished in the bucket (by endedAt).")
    queued: int | None = strawberry.field(description="Largest queue length sampled.")
    latency_seconds: float | None = strawberry.field(description="Largest age of the head job sampled.")
    run_seconds_p50: float | None = strawberry.field(description="Median run time of the jobs that ended.")
    run_seconds_p95: float | None = strawberry.field(description="95th percentile run time.")
    run_seconds_max: float | None = strawberry.field(description="Longest run time.")

    @classmethod
    def of(cls, bucket: services.HistoryBucket) -> HistoryBucket:
        return cls(**bucket.__dict__)


async def resolve_history(
    root: strawberry.Parent[object],
    info: Info,
    since: str | None = None,
    until: str | None = None,
    step: int = 1,
) -> list[HistoryBucket]:
    """The queue's history in buckets of `step` minutes from `since` to `until` (ISO 8601, naive
    means UTC; by default the last hour)."""
    if not getattr(root, "name_decodes", True):
        return []  # a damaged name (not UTF-8 in Redis) addresses nothing, as in Queue.jobs
    name: str = getattr(root, "queue_name")  # noqa: B009 -- the Queue type this field is attached to
    budget = HistoryBudget.budget.get()
    if budget is None:  # a schema built without HistoryBudget
        history = await call_service(service_of(info).queue_history, name, since, until, step)
        return [HistoryBucket.of(bucket) for bucket in history.buckets]
    async with budget.turn:
        left = services.MAX_MINUTES if budget.left is None else budget.left
        history = await call_service(service_of(info).queue_history, name, since, until, step, left)
        budget.left = left - len(history.buckets) * history.step
    return [HistoryBucket.of(bucket) for bucket in history.buckets]


class HistoryBudget(OperationBudget):
    """One request's history range per executed operation, as per REST request: without it, 30
    aliases of `history` (a list of buckets to the cost limit) each read 31 days of minutes,
    44,640 keys in one transaction, thirty times over."""

    budget = ContextVar("history_minutes_left", default=None)
    start = services.MAX_MINUTES


history_field = strawberry.field(
    resolver=resolve_history,
    description="Per-minute history: jobs failed and finished, queue length, head-job age and run "
    'times, merged into buckets of `step` minutes (README "Queue history").',
)
