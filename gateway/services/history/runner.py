"""The sampler every gateway process runs beside its event loop, as an asyncio task started by
the app's lifespan. Each tick runs in a worker thread (Redis calls block), so it never holds up
requests; a failed tick (Redis down) is logged once per outage and retried on the next."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import redis

from gateway.services.history.writer import HistoryWriter

log = logging.getLogger(__name__)


async def _run(writer: HistoryWriter, stop: asyncio.Event) -> None:
    failing = False
    while not stop.is_set():
        try:
            await asyncio.to_thread(writer.tick)
            failing = False
        except redis.RedisError as error:
            if not failing:
                log.warning("history: tick failed, retrying every %.1fs: %s", writer.tick_period, error)
            failing = True
            writer.is_writer = False
        except Exception:
            log.exception("history: tick failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), writer.tick_period)


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
