"""A Sentinel master that hangs (SIGSTOP) rather than dies: its sockets stay open and never
answer. Sentinel promotes the replica; the CLI-started gateway must follow it, over REST, GraphQL,
/readyz and an open subscription, instead of timing out on the frozen master's pooled connections
for as long as the hang lasts."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .helpers import API, wait_until
from .live_client import STATS, LiveClient
from .processes import GatewayProcess
from .sentinel import SETTLE_SECONDS, SentinelDeployment

pytestmark = pytest.mark.e2e


@pytest.fixture
def frozen_master(sentinels: SentinelDeployment) -> Iterator[int]:
    """Freezes the master on demand (yields its pid); thaws it whatever the test did, so the
    deployment can stop it."""
    pid = sentinels.master.pid
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


# Pooled connections to open before the freeze: more than the requests the test sends at once, so
# the pool never has to open a new connection (which would ask the sentinels) to serve them.
POOLED = 8


def _open_pooled_connections(sentinels: SentinelDeployment, base: str) -> None:
    """POOLED concurrent requests while the master holds every client (CLIENT PAUSE): each waits
    on a connection of its own, so the gateway's pool ends up holding POOLED of them."""
    sentinels.client_of(sentinels.master.port).client_pause(1000, all=True)
    with ThreadPoolExecutor(POOLED) as pool:
        answers = list(pool.map(lambda _: requests.get(f"{base}{API}/stats", timeout=30), range(POOLED)))
    assert [answer.status_code for answer in answers] == [200] * POOLED


def _serves(base: str) -> bool:
    ready = requests.get(f"{base}/readyz", timeout=30)
    stats = requests.get(f"{base}{API}/stats", timeout=30)
    graphql = requests.post(f"{base}/graphql", json={"query": "{ queues { queueName } }"}, timeout=30)
    for response in (ready, stats):
        assert response.status_code in (200, 503), response.text
        assert response.status_code == 200 or response.json()["detail"], response.text
    errors = graphql.json().get("errors") or []
    assert all(error["extensions"]["code"] == "SERVICE_UNAVAILABLE" for error in errors), errors
    return ready.status_code == stats.status_code == 200 and not errors


def test_a_frozen_master_is_failed_over_and_the_gateway_follows_the_new_one(
    sentinels: SentinelDeployment, frozen_master: int, tmp_path
):
    master = sentinels.client_of(sentinels.master.port)
    master.sadd("rq:queues", "rq:queue:default")
    gateway = GatewayProcess(sentinels.url, tmp_path / "gateway.log").start()
    try:

        async def scenario() -> None:
            live = await LiveClient.open(gateway.base)
            assert await live.acknowledged()
            await live.subscribe("1", STATS, ms=500)
            assert (await live.payload("1"))["data"]["queueStats"]["queuedCount"] == 0
            # Pooled connections to the master, which the hang will leave open and silent.
            await asyncio.to_thread(_open_pooled_connections, sentinels, gateway.base)
            os.kill(frozen_master, signal.SIGSTOP)
            down = await live.payload("1", timeout=30)
            assert down["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", down
            await asyncio.to_thread(sentinels.wait_promoted, sentinels.master.port)
            promoted = time.monotonic()
            sentinels.client_of(sentinels.master_port()).lpush("rq:queue:default", "after-failover")
            await asyncio.to_thread(
                wait_until,
                lambda: _serves(gateway.base),
                SETTLE_SECONDS * 3,
                "the gateway to serve from the promoted master",
            )
            # Every answer in the wait was a 503 with a detail (_serves checks): no 500.
            assert time.monotonic() - promoted < SETTLE_SECONDS * 3
            # The stream resumes on the same socket, with the promoted master's counts.
            deadline = time.monotonic() + SETTLE_SECONDS * 3
            while time.monotonic() < deadline:
                payload = await live.payload("1", timeout=SETTLE_SECONDS * 3)
                if payload.get("data") and payload["data"]["queueStats"]["queuedCount"] == 1:
                    break
            else:
                pytest.fail("the subscription never sent the promoted master's counts")
            await live.close()

        asyncio.run(scenario())
    finally:
        gateway.stop()


def test_hung_sentinels_delay_no_request_while_the_master_answers(sentinels: SentinelDeployment, tmp_path):
    """The pool asks the sentinels where the master is about once a second while used; with every
    sentinel hung, that would hold a request for each one's timeout, so it asks from a thread of
    its own, and requests go on at the master's pace."""
    gateway = GatewayProcess(sentinels.url, tmp_path / "gateway.log").start()
    hung = [sentinel.pid for sentinel in sentinels.sentinels]
    slowest = 0.0
    try:
        assert requests.get(f"{gateway.base}{API}/stats", timeout=30).status_code == 200
        for pid in hung:
            os.kill(pid, signal.SIGSTOP)
        # Long enough for several checks (one a second), each of which would wait out three timeouts.
        watched_until = time.monotonic() + 4
        while time.monotonic() < watched_until:
            sent = time.monotonic()
            assert requests.get(f"{gateway.base}{API}/stats", timeout=30).status_code == 200
            slowest = max(slowest, time.monotonic() - sent)
    finally:
        for pid in hung:
            os.kill(pid, signal.SIGCONT)
        gateway.stop()
    assert slowest < 1.0, f"a request waited {slowest:.1f}s on the hung sentinels"
