"""Subscriptions end to end: `python -m gateway serve` under uvicorn, a real redis-server, a real
`rq worker`, and a standard graphql-transport-ws client over a real socket (the `websockets`
package). What costs Redis is measured by Redis itself: INFO commandstats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import requests
from rq import Queue
from websockets.asyncio.client import connect

from gateway.apikeys import hash_key
from gateway.demo import jobs

from .helpers import API, RedisServer, run_worker, start_redis_server
from .live_client import JOB, PROTOCOL, STATS, LiveClient, calls_per_second, command_calls
from .processes import GatewayProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway(redis_server: RedisServer, tmp_path) -> Iterator[GatewayProcess]:
    # --no-history: the commandstats figures count every command Redis runs; the history
    # writer's ticks would add to them.
    process = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--no-history").start()
    try:
        yield process
    finally:
        process.stop()


def code(payload: dict) -> str:
    return payload["errors"][0]["extensions"]["code"]


def test_a_job_failing_in_a_worker_reaches_its_subscribers_with_no_request_of_theirs(gateway, r, redis_url):
    job_id = Queue(connection=r).enqueue(jobs.parse_report, "not a report").id

    async def scenario():
        live = await LiveClient.open(gateway.base)
        assert await live.acknowledged()
        await live.subscribe("stats", STATS, queue="default", ms=500)
        await live.subscribe("job", JOB, id=job_id, ms=500)
        first = (await live.payload("stats"))["data"]["queueStats"]
        assert (first["queuedCount"], first["failedCount"]) == (1, 0)
        assert (await live.payload("job"))["data"]["job"]["status"] == "QUEUED"
        await asyncio.to_thread(run_worker, redis_url, ["default"])
        statuses = []
        while not statuses or statuses[-1] != "FAILED":
            statuses.append((await live.payload("job"))["data"]["job"]["status"])
        # Only changes: each status once (a burst worker may finish before a poll sees STARTED).
        assert statuses in (["FAILED"], ["STARTED", "FAILED"])
        counts = (await live.payload("stats"))["data"]["queueStats"]
        while counts["failedCount"] != 1:
            counts = (await live.payload("stats"))["data"]["queueStats"]
        assert counts["queuedCount"] == 0
        rest = requests.get(f"{gateway.base}{API}/stats", timeout=10).json()
        assert (rest["failed_count"], rest["queued_count"]) == (1, 0)
        # Deleted through REST: the job stream says null and completes.
        assert requests.delete(f"{gateway.base}{API}/failed/{job_id}", timeout=10).status_code == 200
        assert await live.payload("job") == {"data": {"job": None}}
        assert (await live.message("job"))["type"] == "complete"
        await live.close()

    asyncio.run(scenario())


async def _calls_per_second(r, seconds: float) -> float:
    start, before = time.monotonic(), command_calls(r)
    await asyncio.sleep(seconds)  # the measuring window itself, not a wait for an event
    return (command_calls(r) - before) / (time.monotonic() - start)


async def _subscribers(base: str, count: int, per_connection: int = 100) -> list[LiveClient]:
    clients = []
    for start in range(0, count, per_connection):
        live = await LiveClient.open(base)
        assert await live.acknowledged()
        for index in range(start, min(count, start + per_connection)):
            await live.subscribe(str(index), STATS, queue="default", ms=500)
        for index in range(start, min(count, start + per_connection)):
            assert (await live.payload(str(index), timeout=60))["data"]["queueStats"]["queuedCount"] == 1
        clients.append(live)
    return clients


def test_a_thousand_subscribers_cost_the_redis_commands_of_one(gateway, r):
    Queue(connection=r).enqueue(jobs.add, 1, 2)

    async def scenario() -> tuple[float, float]:
        (one,) = await _subscribers(gateway.base, 1)
        single = await calls_per_second(r, polls=10)
        await one.close()
        many = await _subscribers(gateway.base, 1000)
        thousand = await calls_per_second(r, polls=10)
        for live in many:
            await live.close()
        return single, thousand

    single, thousand = asyncio.run(scenario())
    assert single > 0
    assert abs(thousand - single) <= 0.10 * single, (single, thousand)


def test_the_poller_stops_when_its_last_subscriber_leaves(gateway, r):
    Queue(connection=r).enqueue(jobs.add, 1, 2)

    async def scenario():
        live = await LiveClient.open(gateway.base)
        assert await live.acknowledged()
        await live.subscribe("1", STATS, queue="default", ms=500)
        await live.payload("1")
        polling = await _calls_per_second(r, 1.5)
        await live.complete("1")
        # The gateway handles the complete before it reads this socket's next message.
        await live.subscribe("2", "subscription { queueStats(intervalMs: 500) { queuedCount } }")
        await live.payload("2")
        await live.complete("2")
        await live.subscribe("3", "query { __typename }")
        await live.message("3")
        idle = await _calls_per_second(r, 2)
        await live.close()
        return polling, idle

    polling, idle = asyncio.run(scenario())
    assert polling > 0 and idle == 0, (polling, idle)


@pytest.fixture
def own_redis(redis_server_binary: str, tmp_path) -> Iterator[RedisServer]:
    server = start_redis_server(redis_server_binary, tmp_path / "own")
    try:
        yield server
    finally:
        server.stop()


def test_a_redis_outage_is_service_unavailable_and_the_stream_resumes_on_the_same_socket(
    own_redis: RedisServer, tmp_path
):
    gateway = GatewayProcess(own_redis.url, tmp_path / "gateway.log", "--redis-timeout", "0.5").start()
    try:

        async def scenario():
            live = await LiveClient.open(gateway.base)
            assert await live.acknowledged()
            await live.subscribe("1", STATS, ms=500)
            assert (await live.payload("1"))["data"]["queueStats"]["queuedCount"] == 0
            own_redis.stop()
            down = await live.payload("1")
            assert down["data"] is None and code(down) == "SERVICE_UNAVAILABLE"
            await asyncio.to_thread(own_redis.start)
            Queue(connection=own_redis.client()).enqueue(jobs.add, 1, 2)
            back = await live.payload("1", timeout=30)
            assert back == {
                "data": {"queueStats": {"queueName": "default", "queuedCount": 1, "failedCount": 0}}
            }
            await live.close()

        asyncio.run(scenario())
    finally:
        gateway.stop()


VIEWER, BILLING = "rqg_live-viewer-0123456789", "rqg_live-billing-0123456789"


def test_keys_over_the_socket_of_the_cli_started_gateway(redis_server: RedisServer, r, tmp_path):
    keys = f"viewer:viewer:{hash_key(VIEWER)};billing:operator:{hash_key(BILLING)}:billing-*"
    job_id = Queue("billing-eu", connection=r).enqueue(jobs.flaky_charge, "4111-1111-1111-1111").id
    gateway = GatewayProcess(
        redis_server.url, tmp_path / "gateway.log", "--api-keys", keys, "--hide-payloads"
    ).start()
    try:

        async def scenario():
            for key in (None, "rqg_wrong"):
                refused = await LiveClient.open(gateway.base, key)
                await refused.ws.wait_closed()
                assert refused.ws.close_code == 4403
            billing = await LiveClient.open(gateway.base, BILLING)
            assert await billing.acknowledged()
            await billing.subscribe("1", STATS, queue="default", ms=500)
            assert code(await billing.payload("1")) == "FORBIDDEN"
            await billing.subscribe("2", STATS, queue="billing-eu", ms=500)
            assert (await billing.payload("2"))["data"]["queueStats"]["queuedCount"] == 1
            viewer = await LiveClient.open(gateway.base, VIEWER)
            assert await viewer.acknowledged()
            await viewer.subscribe("1", JOB, id=job_id, ms=500)
            seen = (await viewer.payload("1"))["data"]["job"]
            assert seen["args"] is None and "4111" not in str(seen)
            await billing.close()
            await viewer.close()

        asyncio.run(scenario())
    finally:
        gateway.stop()


def test_connections_past_the_limit_are_closed_with_1013(redis_server: RedisServer, tmp_path):
    gateway = GatewayProcess(redis_server.url, tmp_path / "gateway.log", "--max-websocket-connections", "1")
    gateway.start()
    try:

        async def scenario():
            first = await LiveClient.open(gateway.base)
            assert await first.acknowledged()
            second = await connect(f"ws://127.0.0.1:{gateway.port}/graphql", subprotocols=[PROTOCOL])
            await second.wait_closed()
            assert second.close_code == 1013
            await first.close()

        asyncio.run(scenario())
    finally:
        gateway.stop()
