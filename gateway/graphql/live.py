"""The Subscription type: live queue counts, queues and jobs over graphql-transport-ws.

Each field names its stream (field, arguments, interval) and the read that feeds it; the
process's hub (gateway/live) runs one poller per stream, reading with the unbound service, so
every subscriber shares one read. What each subscriber is shown of that read is decided by its
own key, through the service's `live_queue`/`view_queues`/`view_job` (role, queue patterns,
--hide-payloads), and only what changed in its own view is sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from gateway.errors import BackendUnavailable, GatewayError, NotFound
from gateway.graphql.context import service_of
from gateway.graphql.errors import code_for
from gateway.graphql.queues import Queue
from gateway.graphql.types import Job, QueueStats
from gateway.live import LiveConnection, LiveHub, interval_seconds
from gateway.services import JobService


@dataclass(frozen=True)
class _Stream:
    """One subscription: its stream's key and read, and how this subscriber sees each answer."""

    key: Hashable
    read: Callable[[], Any]
    view: Callable[[Any], Any]  # a call on the subscriber's own service: may raise GatewayError
    show: Callable[[Any], Any]  # the view as the GraphQL type
    changed_by: Callable[[Any], Any] = lambda view: view
    gone_is_null: bool = False  # NotFound ends the stream with null (job) rather than an error


_NOTHING = object()
WEBSOCKET_ONLY = (
    "Subscriptions are served over a websocket at /graphql, with the graphql-transport-ws protocol "
    "(README, Subscriptions)"
)


class WebsocketOnly(SchemaExtension):
    """A subscription sent over HTTP (a POST, or a multipart request) is BAD_REQUEST: over HTTP,
    graphql-core would run its fields as a query, which answers nothing useful."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        is_websocket = isinstance(context.context, dict) and "live_connection" in context.context
        if context.operation_type is OperationType.SUBSCRIPTION and not is_websocket:
            raise GraphQLError(WEBSOCKET_ONLY, extensions={"code": "BAD_REQUEST"})
        yield


def _ends_stream(error: GatewayError) -> bool:
    """Whether a subscriber's view refusing a read ends its stream, as the same error raised by
    the read itself would (gateway/live/poller.py: only BackendUnavailable lets a stream go on).
    So a thing the key may not see (the view answers NotFound) ends the stream exactly as a
    thing that does not exist: the key cannot tell them apart, and holds no subscription slot."""
    return not isinstance(error, BackendUnavailable)


def _error(error: GatewayError) -> GraphQLError:
    return GraphQLError(error.message, extensions={"code": code_for(error)})


async def _follow(
    info: Info, stream: Callable[[JobService, JobService], _Stream], interval_ms: int
) -> AsyncGenerator[Any, None]:
    """The subscription's events: each change of this subscriber's view, or an error. A yielded
    GraphQLError is a `next` with `errors`; a final one (or null for a gone job) ends the stream."""
    context = info.context
    hub: LiveHub = context["live"]
    connection: LiveConnection = context["live_connection"]
    try:
        interval = interval_seconds(interval_ms)
        chosen = stream(service_of(info), context["unbound_service"])
        # Keyed by the connection's Redis instance too: the same stream on two instances is two
        # pollers, each reading its own Redis (router.py binds the instance of ?instance=).
        key = (context.get("instance"), chosen.key)
        async with hub.stream(connection, key, chosen.read, interval) as updates:
            shown: Any = _NOTHING
            async for update in updates:
                try:
                    if isinstance(update.error, BackendUnavailable):
                        # The shared read's outage, without an instance name the key may not see.
                        raise service_of(info).seen_outage(update.error)
                    if update.error is not None:
                        raise update.error
                    view = chosen.view(update.value)
                except GatewayError as error:
                    if chosen.gone_is_null and isinstance(error, NotFound):
                        yield None
                        return
                    if (type(error), error.message) != shown:
                        shown = (type(error), error.message)
                        yield _error(error)
                    if update.final or _ends_stream(error):
                        return
                    continue
                if chosen.changed_by(view) != shown:
                    shown = chosen.changed_by(view)
                    yield chosen.show(view)
    except GatewayError as error:  # refused before the stream started
        yield _error(error)


def _queue_stats_stream(queue: str | None, interval_ms: int, own: JobService, unbound: JobService) -> _Stream:
    name = own.live_queue(queue)  # the key's role and queue patterns are checked here, once
    return _Stream(
        key=("queueStats", name, queue is None, interval_ms),
        read=partial(unbound.stats, queue),
        view=lambda stats: stats,
        show=QueueStats.of,
    )


def _queues_stream(interval_ms: int, own: JobService, unbound: JobService) -> _Stream:
    own.view_queues([])  # the role check, before the stream starts
    return _Stream(
        key=("queues", interval_ms),
        read=unbound.queues,
        view=own.view_queues,
        show=lambda queues: [Queue.of(queue) for queue in queues],
    )


def _job_stream(job_id: str, interval_ms: int, own: JobService, unbound: JobService) -> _Stream:
    return _Stream(
        key=("job", job_id, interval_ms),
        read=partial(unbound.sight_job, job_id),
        view=partial(own.view_job, job_id),
        show=Job.of,
        changed_by=lambda job: job.status,
        gone_is_null=True,
    )


@strawberry.type
class LiveSubscription:
    @strawberry.subscription(
        description="The queue's counts at once, then each time one of them changes (checked every "
        "intervalMs, at least 500)."
    )
    async def queue_stats(
        self, info: Info, queue: str | None = None, interval_ms: int = 2000
    ) -> AsyncGenerator[QueueStats, None]:
        return _follow(info, partial(_queue_stats_stream, queue, interval_ms), interval_ms)

    @strawberry.subscription(
        description="Every queue (counts, latency, worker count) at once, then each time any of it changes."
    )
    async def queues(self, info: Info, interval_ms: int = 2000) -> AsyncGenerator[list[Queue], None]:
        return _follow(info, partial(_queues_stream, interval_ms), interval_ms)

    @strawberry.subscription(
        description="The job at once, then each time its status changes; null once it no longer "
        "exists, and the stream completes."
    )
    async def job(
        self, info: Info, id: strawberry.ID, interval_ms: int = 1000
    ) -> AsyncGenerator[Job | None, None]:
        return _follow(info, partial(_job_stream, str(id), interval_ms), interval_ms)
