"""Live subscriptions per Redis instance (README "Several Redis instances"): the CLI-started
gateway with two real redis-servers, and a standard graphql-transport-ws client over a real
socket. A websocket on /graphql?instance=b streams instance b's data, never the default's, even
when both subscribe to the same stream at the same interval (one poller per instance)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from rq import Queue

from gateway.demo import jobs

from .helpers import API, RedisServer, failed_ids, run_worker
from .live_client import JOB, STATS, LiveClient
from .processes import GatewayProcess

pytestmark = pytest.mark.e2e

QUEUES = "subscription { queues(intervalMs: 500) { queueName failedCount } }"


def fail(url: str, count: int) -> list[str]:
    connection = redis.Redis.from_url(url)
    try:
        q = Queue(connection=connection)
        ids = [q.enqueue(jobs.parse_report, f"bad-{i}").id for i in range(count)]
        run_worker(url, ("default",))
        assert set(ids) <= set(failed_ids(connection))
        return ids
    finally:
        connection.close()


@pytest.fixture
def gateway(redis_server: RedisServer, second: RedisServer, tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(
        redis_server.url, tmp_path / "gateway.log", "--redis", f"b={second.url}", "--no-history"
    ).start()
    try:
        yield process
    finally:
        process.stop()


def test_each_websocket_streams_the_instance_its_url_names(redis_server, second, gateway):
    on_a = fail(redis_server.url, 1)
    on_b = fail(second.url, 3)

    async def scenario():
        a = await LiveClient.open(gateway.base)
        b = await LiveClient.open(gateway.base, instance="b")
        assert await a.acknowledged() and await b.acknowledged()
        # The same stream (field, arguments, interval) on both: the default's first, so a poller
        # shared across instances would hand b the default's counts.
        await a.subscribe("stats", STATS, queue="default", ms=500)
        assert (await a.payload("stats"))["data"]["queueStats"]["failedCount"] == len(on_a)
        await b.subscribe("stats", STATS, queue="default", ms=500)
        assert (await b.payload("stats"))["data"]["queueStats"]["failedCount"] == len(on_b)
        await a.subscribe("queues", QUEUES)
        await b.subscribe("queues", QUEUES)
        assert (await a.payload("queues"))["data"]["queues"] == [{"queueName": "default", "failedCount": 1}]
        assert (await b.payload("queues"))["data"]["queues"] == [{"queueName": "default", "failedCount": 3}]
        # A job of b: found over b's socket, not on the default (null: no such job there).
        await b.subscribe("job", JOB, id=on_b[0], ms=500)
        assert (await b.payload("job"))["data"]["job"]["status"] == "FAILED"
        await a.subscribe("job", JOB, id=on_b[0], ms=500)
        assert (await a.payload("job"))["data"]["job"] is None
        # A retry on b reaches b's streams.
        retried = requests.post(
            f"{gateway.base}{API}/failed/{on_b[0]}/retry", params={"instance": "b"}, timeout=10
        )
        assert retried.status_code == 200, retried.text
        assert (await b.payload("job"))["data"]["job"]["status"] == "QUEUED"
        assert (await b.payload("stats"))["data"]["queueStats"]["failedCount"] == len(on_b) - 1
        await a.close()
        await b.close()

    asyncio.run(scenario())


def test_an_unknown_instance_on_the_websocket_is_refused(gateway):
    async def scenario():
        refused = await LiveClient.open(gateway.base, instance="nope")
        await asyncio.wait_for(refused.ws.wait_closed(), 10)
        assert refused.ws.close_code == 4403

    asyncio.run(scenario())
    assert "Redis instance 'nope' is not configured" in gateway.output()
