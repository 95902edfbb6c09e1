"""The `operation(id)` subscription: a tracked operation's progress streamed over a real websocket
from the CLI-started gateway (the shared pollers of gateway/live), ending with its last status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from itertools import pairwise

import pytest
import requests

from bench.seed import seed_failed

from .helpers import RedisServer
from .live_client import LiveClient
from .processes import GatewayProcess

pytestmark = pytest.mark.e2e

OPERATION = """subscription($id: ID!, $ms: Int!) {
  operation(id: $id, intervalMs: $ms) { id status total done acted }
}"""


@pytest.fixture
def gateway(redis_server: RedisServer, tmp_path) -> Iterator[GatewayProcess]:
    # A slow pace (2,000 jobs/s over 6,000 jobs): the stream sees it running, then succeeded.
    process = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--bulk-max-rate", "2000").start()
    try:
        yield process
    finally:
        process.stop()


def test_the_operation_subscription_streams_progress_and_completes_when_it_ends(gateway, r, redis_server):
    seed_failed(r, redis_server.url, 6000, with_worker=20)
    started = requests.post(
        f"{gateway.base}/api/v1/operations", json={"action": "retry", "selector": {"all": True}}, timeout=30
    ).json()

    async def scenario() -> tuple[list[dict], dict]:
        live = await LiveClient.open(gateway.base)
        assert await live.acknowledged()
        await live.subscribe("op", OPERATION, id=started["id"], ms=500)
        events = []
        while True:
            message = await live.message("op", timeout=30)
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            events.append(message["payload"]["data"]["operation"])
        await live.subscribe("gone", OPERATION, id="0" * 32, ms=500)
        gone = await live.message("gone")
        await live.close()
        return events, gone

    events, gone = asyncio.run(scenario())
    assert events[0]["status"] == "running" and events[-1]["status"] == "succeeded"
    assert [e["status"] for e in events[:-1]] == ["running"] * (len(events) - 1)
    dones = [e["done"] for e in events]
    assert dones == sorted(dones)
    # Only changes are sent: the last chunk's progress and the end may be two events at one `done`.
    shown = [(e["status"], e["done"], e["acted"]) for e in events]
    assert all(a != b for a, b in pairwise(shown))
    assert (events[-1]["total"], events[-1]["done"], events[-1]["acted"]) == (6000, 6000, 6000)
    assert gone["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
