"""The sampler runs in the app's lifespan: the process takes the writer's lease and samples while
it serves, and hands the lease over when it stops."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.services.history.layout import LEASE_KEY, WATERMARK_KEY
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
