"""A deployment whose ACL user may use RQ's keys and the gateway's own, but not the gateway's
pub/sub channel (`&rq-gateway:*`, needed since tracked operations announce their start on it):
the start's announcement is refused after the operation was created. The start answered 503, so
the client thought nothing had started (and a retry started a second one), while the first ran."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings

from .helpers import wait_until

USER = "no-gateway-channel"


@pytest.fixture
def client_without_the_channel(r: redis.Redis, redis_url: str) -> Iterator[TestClient]:
    rules = ["~rq:*", "~rq-gateway:*", "&rq:*", "+@all", "-@dangerous", "+info"]
    r.execute_command("ACL", "SETUSER", USER, "reset", "on", ">pw", *rules)
    app = create_app(Settings(redis_url=redis_url.replace("redis://", f"redis://{USER}:pw@", 1)))
    try:
        yield TestClient(app)
    finally:
        app.state.service.connection.close()
        r.execute_command("ACL", "DELUSER", USER)


def test_a_start_whose_announcement_is_refused_answers_202_and_runs(client_without_the_channel, r, fail_jobs):
    ids = fail_jobs(2)
    client = client_without_the_channel
    started = client.post("/api/v1/operations", json={"action": "retry", "selector": {"job_ids": ids}})
    assert started.status_code == 202, started.text
    operation_id = started.json()["id"]
    wait_until(
        lambda: client.get(f"/api/v1/operations/{operation_id}").json()["status"] == "succeeded",
        30,
        "the end",
    )
    assert client.get(f"/api/v1/operations/{operation_id}").json()["acted"] == 2
    assert len(r.zrange("rq-gateway:operations", 0, -1)) == 1
