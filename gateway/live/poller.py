"""One shared poller: a read run every interval off the event loop, its changes fanned out.

A poller serves every subscriber of one stream, a (field, arguments, interval) key. It runs
while it has subscribers: each interval it calls its read in a worker thread (the read is a
blocking service call), and publishes an Update to every subscriber when the read's answer
differs from the last one. So a thousand subscribers cost the Redis commands of one.

Each subscriber has a bounded queue. A subscriber whose queue is full has fallen behind: it
is dropped (its stream ends with LimitExceeded) rather than buffered without bound.

A read that fails with BackendUnavailable is published as an error, and the poller keeps
reading: the first answer after Redis is back is published too, so streams resume by
themselves. Any other GatewayError is final (a bad argument, a queue or job that is not
there): published, then the stream ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from gateway.errors import BackendUnavailable, GatewayError, LimitExceeded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Update:
    """What a poller publishes: a read's answer, or its error; `final` ends the stream."""

    value: Any = None
    error: Exception | None = None  # a GatewayError, or an unexpected one (a bug)
    final: bool = False

    def same_as(self, other: Update | None) -> bool:
        # Errors compare by class and text: exceptions themselves compare by identity.
        if other is None or self.final != other.final:
            return False
        if self.error is None or other.error is None:
            return self.error is other.error and self.value == other.value
        return type(self.error) is type(other.error) and str(self.error) == str(other.error)


DROPPED = Update(
    error=LimitExceeded("This subscriber fell too far behind its stream and was dropped; subscribe again"),
    final=True,
)


class Subscriber:
    """One subscriber's end of a poller: a bounded queue of updates."""

    def __init__(self, poller: Poller, size: int):
        self.poller = poller
        self._queue: asyncio.Queue[Update] = asyncio.Queue(size)
        self.dropped = False

    def offer(self, update: Update) -> None:
        if self.dropped:
            return
        try:
            self._queue.put_nowait(update)
        except asyncio.QueueFull:
            self._drop()

    def _drop(self) -> None:
        """Its backlog is discarded and replaced by the one update that ends its stream."""
        self.dropped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(DROPPED)
        self.poller.leave(self)

    async def next(self) -> Update:
        return await self._queue.get()


class Poller:
    def __init__(
        self,
        key: Hashable,
        read: Callable[[], Any],
        interval: float,
        on_stop: Callable[[Poller], None],
    ):
        self.key = key
        self._read = read
        self._interval = interval
        self._on_stop = on_stop
        self._subscribers: set[Subscriber] = set()
        self.latest: Update | None = None
        self.reads = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def join(self, size: int) -> Subscriber:
        """A new subscriber: it gets the latest update at once, then every change."""
        subscriber = Subscriber(self, size)
        self._subscribers.add(subscriber)
        if self.latest is not None:
            subscriber.offer(self.latest)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"live poller {self.key}")
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers:
            self.stop()

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._on_stop(self)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            update = await self._poll()
            if not update.same_as(self.latest):
                self.latest = update
                for subscriber in list(self._subscribers):  # offer may drop one
                    subscriber.offer(update)
            if update.final:
                self._on_stop(self)
                return
            # A read every interval, whatever the read took; one slower than the interval is
            # followed by the next at once, never by a burst of missed ones.
            due = max(due + self._interval, loop.time())
            await asyncio.sleep(due - loop.time())

    async def _poll(self) -> Update:
        self.reads += 1
        try:
            # Cancelling the poller abandons a read in progress instead of waiting for it.
            return Update(await anyio.to_thread.run_sync(self._read, abandon_on_cancel=True))
        except BackendUnavailable as error:
            return Update(error=error)
        except GatewayError as error:
            return Update(error=error, final=True)
        except Exception as error:
            # A bug: each subscriber's stream raises it, and the schema masks it as INTERNAL.
            log.exception("Unexpected error in the live poller %s", self.key)
            return Update(error=error, final=True)
