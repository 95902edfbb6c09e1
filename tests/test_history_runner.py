"""The sampler runs in the app's lifespan: the process takes the writer's lease and samples while
it serves, and hands the lease over when it stops."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.services.history import runner
from gateway.services.history.layout import LEASE_KEY, WATERMARK_KEY
from gateway.services.history.runner import LONGEST_PAUSE, pause_after
from gateway.services.history.writer import HistoryWriter
from tests.realredis.helpers import wait_until


def test_the_app_samples_while_it_serves_and_releases_the_lease_on_stop(conn):
    conn.sadd("rq:queues", "rq:queue:default")
    settings = Settings(redis_url="redis://unused", history_interval=0.05, history_lease=1)
    with TestClient(create_app(settings, connection=conn)) as client:
        wait_until(lambda: conn.exists(WATERMARK_KEY), 10, "the first tick (it runs in a thread)")
        assert conn.get(LEASE_KEY) is not None
        (bucket,) = client.get("/api/v1/queues/default/history").json()["buckets"][-1:]
        assert bucket["queued"] == 0  # the current minute was sampled
    assert conn.get(LEASE_KEY) is None  # released: another process takes over at once


def test_a_long_tick_is_followed_by_a_longer_pause_so_ticks_take_a_tenth_of_the_time():
    assert pause_after(10, 0.05) == 10  # small registries: the sample interval
    assert pause_after(10, 3.0) == pytest.approx(27.0)  # 1,000,000 failed jobs: 3 s ticks
    assert pause_after(10, 30.0) == LONGEST_PAUSE  # the first tick over a million fresh failures


def test_the_writer_keeps_its_lease_through_a_pause_longer_than_the_lease(conn):
    """A pause after a long tick may outlast the lease: renewed every third of it meanwhile, it
    never lapses, so no other process takes over a live writer."""
    writer = HistoryWriter(conn, retention=3600, lease_seconds=0.3, interval=0.1)
    conn.sadd("rq:queues", "rq:queue:default")
    assert writer.tick()
    token = conn.get(LEASE_KEY)
    stop = asyncio.Event()

    async def pause_and_watch() -> list[int]:
        pausing = asyncio.create_task(runner._pause(writer, stop, 1.0, time.monotonic))
        left = []
        while not pausing.done():
            left.append(conn.pttl(LEASE_KEY))
            await asyncio.sleep(0.02)
        return left

    left = asyncio.run(pause_and_watch())
    assert len(left) > 20 and min(left) > 0  # never expired during three lease periods
    assert conn.get(LEASE_KEY) == token and writer.is_writer


def test_a_pause_ends_at_once_when_the_app_stops(conn):
    writer = HistoryWriter(conn, retention=3600, lease_seconds=30, interval=10)
    stop = asyncio.Event()
    stop.set()
    started = time.monotonic()
    asyncio.run(runner._pause(writer, stop, 60.0, time.monotonic))
    assert time.monotonic() - started < 1


def test_a_short_tick_keeps_the_interval():
    assert pause_after(0.2, 0.5) == 0.2  # under LONG_TICK: the tests' short intervals stay short


def test_the_sampler_waits_longer_after_a_long_tick(conn, monkeypatch):
    """The running sampler (_run), not only pause_after: after a tick of 0.1 s counted as long,
    it waits 0.9 s, so in 0.6 s it ticks once (with the 0.05 s interval alone, about ten times)."""
    monkeypatch.setattr(runner, "LONG_TICK", 0.05)
    writer = HistoryWriter(conn, retention=3600, lease_seconds=30, interval=0.05)
    ticks: list[float] = []

    def long_tick() -> bool:
        ticks.append(time.monotonic())
        time.sleep(0.1)  # the tick's own work, as a tick over a large registry takes seconds
        return True

    monkeypatch.setattr(writer, "tick", long_tick)

    async def sample_for(seconds: float) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(runner._run(writer, stop))
        await asyncio.sleep(seconds)
        stop.set()
        await task

    asyncio.run(sample_for(0.6))
    assert len(ticks) == 1
