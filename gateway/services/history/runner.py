"""The sampler every gateway process runs beside its event loop, as an asyncio task started by
the app's lifespan. Each tick runs in a worker thread (Redis calls block), so it never holds up
requests; a failed tick (Redis down) is logged once per outage and retried on the next. After a
long tick (large registries) the pause grows (HistoryWriter.pause_after), and the writer keeps its
lease through it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import redis

from gateway.services.history.writer import HistoryWriter

log = logging.getLogger(__name__)


async def _run(writer: HistoryWriter, stop: asyncio.Event, clock=time.monotonic) -> None:
    failing = False
    while not stop.is_set():
        started = clock()
        pause = writer.tick_period
        try:
            await asyncio.to_thread(writer.tick)
            failing = False
            pause = writer.pause_after(clock() - started)
        except redis.RedisError as error:
            if not failing:
                log.warning("history: tick failed, retrying every %.1fs: %s", writer.tick_period, error)
            failing = True
            writer.is_writer = False
        except Exception:
            log.exception("history: tick failed")
        await _pause(writer, stop, pause, clock)


async def _pause(writer: HistoryWriter, stop: asyncio.Event, seconds: float, clock) -> None:
    """Wait `seconds` (or until stopped), renewing the lease every third of it meanwhile."""
    until = clock() + seconds
    renew_every = writer.lease.milliseconds / 3000
    while not stop.is_set() and (left := until - clock()) > 0:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), min(left, renew_every))
        if not stop.is_set() and until - clock() > 0:
            try:
                await asyncio.to_thread(writer.keep_lease)
            except redis.RedisError:
                writer.is_writer = False  # the next tick finds out again


@contextlib.asynccontextmanager
async def history_sampling(
    connection: redis.Redis, retention: int, lease_seconds: float, interval: float
) -> AsyncIterator[HistoryWriter]:
    """Sample while the context is open; on exit stop and hand the lease over."""
    writer = HistoryWriter(connection, retention, lease_seconds, interval)
    stop = asyncio.Event()
    task = asyncio.create_task(_run(writer, stop), name="rq-gateway history")
    try:
        yield writer
    finally:
        stop.set()
        writer.interrupted.set()
        await task
        with contextlib.suppress(redis.RedisError):
            await asyncio.to_thread(writer.release)
