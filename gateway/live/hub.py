"""The process's live streams: one poller per distinct stream, and the limits that bound them.

`LiveHub.stream(key, read, interval)` is all a live field needs (see ARCHITECTURE.md, "Adding a
live field"): the first subscriber of a key starts its poller, later ones share it, and the last
one to leave stops it. The hub also counts the process's websocket connections and each
connection's active subscriptions, against the two settings that bound them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

from gateway.errors import InvalidParameter, LimitExceeded
from gateway.live.poller import Poller, Update

MIN_INTERVAL_MS = 500
# Updates a subscriber may have waiting before it counts as fallen behind and is dropped. A
# stream sends only changes, at most one per interval, so a healthy client is never near it.
SUBSCRIBER_BACKLOG = 16


def interval_seconds(interval_ms: int) -> float:
    """The poll interval a client asked for, refused below MIN_INTERVAL_MS: each distinct
    interval is a poller of its own, and a short one is Redis load no dashboard needs."""
    if interval_ms < MIN_INTERVAL_MS:
        raise InvalidParameter(f"intervalMs must be at least {MIN_INTERVAL_MS}, not {interval_ms}")
    return interval_ms / 1000


class LiveConnection:
    """One websocket connection's count of active subscriptions."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0


class LiveHub:
    def __init__(
        self,
        max_connections: int,
        max_subscriptions_per_connection: int,
        backlog: int = SUBSCRIBER_BACKLOG,
    ):
        self.max_connections = max_connections
        self.max_subscriptions_per_connection = max_subscriptions_per_connection
        self.backlog = backlog
        self.connections = 0
        self.pollers: dict[Hashable, Poller] = {}

    def open_connection(self) -> LiveConnection | None:
        """A slot for one more websocket connection; None when the process has none left."""
        if self.connections >= self.max_connections:
            return None
        self.connections += 1
        return LiveConnection(self.max_subscriptions_per_connection)

    def close_connection(self) -> None:
        self.connections -= 1

    @asynccontextmanager
    async def stream(
        self,
        connection: LiveConnection,
        key: Hashable,
        read: Callable[[], Any],
        interval: float,
    ) -> AsyncIterator[AsyncIterator[Update]]:
        """The updates of stream `key` for one subscriber, until it leaves the block: the
        latest update at once (when the stream has one yet), then each change."""
        if connection.active >= connection.limit:
            raise LimitExceeded(
                f"This connection already has {connection.limit} active subscriptions, the most "
                "allowed (--max-subscriptions-per-connection); complete one first"
            )
        poller = self.pollers.get(key)
        if poller is None:
            poller = self.pollers[key] = Poller(key, read, interval, self._forget)
        subscriber = poller.join(self.backlog)
        connection.active += 1
        try:
            yield _updates(subscriber)
        finally:
            connection.active -= 1
            poller.leave(subscriber)

    def _forget(self, poller: Poller) -> None:
        if self.pollers.get(poller.key) is poller:
            del self.pollers[poller.key]


async def _updates(subscriber: Any) -> AsyncIterator[Update]:
    while True:
        update = await subscriber.next()
        yield update
        if update.final:
            return
