"""The sampler every gateway process runs beside its event loop, as an asyncio task started by
the app's lifespan. Each tick runs in a worker thread (Redis calls block), so it never holds up
requests; a failed tick (Redis down) is logged once per outage and retried on the next. After a
long tick (large registries) the pause grows (pause_after), and the writer keeps its
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

# At most this part of the writer's time goes to ticks: with hundreds of thousands of jobs in the
# registries a tick takes seconds of Redis time (writer.py), so the pause after it grows,
# and the history costs Redis at most about a tenth of its time at any size, instead of a fifth
# at 1,000,000 failed jobs with a tick every 10 s.
TICK_SHARE = 0.1
# A tick this long or longer is followed by a longer pause; shorter ones (small registries, the
# tests' short intervals) keep the interval.
LONG_TICK = 1.0
# The longest pause: with steady ticks under 15 s, every minute still gets a sample of its queues.
LONGEST_PAUSE = 45.0


def pause_after(tick_period: float, seconds: float) -> float:
    """How long to wait after a tick that took `seconds` before the next: `tick_period`, or longer
    after a long tick, so ticks take at most TICK_SHARE of the time (_pause keeps the lease)."""
    if seconds < LONG_TICK:
        return tick_period
    stretched = max(tick_period, seconds * (1 / TICK_SHARE - 1))
    return min(stretched, max(tick_period, LONGEST_PAUSE))


async def _run(writer: HistoryWriter, stop: asyncio.Event, clock=time.monotonic) -> None:
    failing = False
    while not stop.is_set():
        started = clock()
        pause = writer.tick_period
        try:
            await asyncio.to_thread(writer.tick)
            failing = False
            pause = pause_after(writer.tick_period, clock() - started)
        except redis.RedisError as error:
            if not failing:
                log.warning(
                    "%s: tick failed, retrying every %.1fs: %s", writer.label, writer.tick_period, error
                )
            failing = True
            writer.is_writer = False
        except Exception:
            log.exception("%s: tick failed", writer.label)
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
            except Exception:
                log.exception("%s: renewing the lease failed", writer.label)
                writer.is_writer = False


@contextlib.asynccontextmanager
async def history_sampling(
    connection: redis.Redis,
    retention: int,
    lease_seconds: float,
    interval: float,
    instance: str | None = None,
) -> AsyncIterator[HistoryWriter]:
    """Sample while the context is open; on exit stop and hand the lease over. `instance` names
    the Redis instance in the log lines when the gateway serves several."""
    writer = HistoryWriter(connection, retention, lease_seconds, interval)
    if instance is not None:
        writer.label = f"history (instance {instance!r})"
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
