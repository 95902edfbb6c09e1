"""An outage's 503 names only instances the caller may see (README "Several Redis instances").

A key whose patterns all name instance b (`b:*`) is told that the default instance does not
exist when it names it. Its requests still reach the default's Redis: the audit trail lives
there, and a request without `?instance=` is answered by the default instance. With the default
down, those 503s said `Redis instance 'default': ...`, so the key learned the name of an instance
it may not see. They now say what is wrong without the name; keys that may see the default
still read its name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.apikeys import hash_key
from gateway.app import create_app
from gateway.config import Settings
from tests.live_session import PROTOCOL, Session

from .helpers import RedisServer

ADMIN_B = "rqg_admin-of-instance-b-only"
ADMIN = "rqg_admin-of-every-instance"


@pytest.fixture
def default_down(redis_url: str, second: RedisServer) -> Iterator[TestClient]:
    """The second server as the default instance, stopped; the session server as `b`."""
    keys = f"ab:admin:{hash_key(ADMIN_B)}:b:*;all:admin:{hash_key(ADMIN)}"
    app = create_app(
        Settings(redis_url=second.url, redis_instances=(f"b={redis_url}",), redis_timeout=1, api_keys=keys)
    )
    second.stop()
    try:
        yield TestClient(app)
    finally:
        for name in app.state.instances.names:
            app.state.instances.service(name).connection.close()


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _outages(client: TestClient, key: str) -> list[str]:
    """The outage messages of every way a key limited to b still reaches the default's Redis."""
    messages = []
    for path, params in (("/api/v1/audit", {"instance": "b"}), ("/api/v1/queues", {})):
        response = client.get(path, params=params, headers=_as(key))
        assert response.status_code == 503, response.text
        messages.append(response.json()["detail"])
    for url, query in (
        ("/graphql?instance=b", "{ auditLog { totalCount } }"),
        ("/graphql", "{ queues { queueName } }"),
    ):
        body = client.post(url, json={"query": query}, headers=_as(key)).json()
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        messages.append(error["message"])
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        session = Session(ws)
        assert session.init(key)["type"] == "connection_ack"
        session.subscribe("q", "subscription { queues(intervalMs: 500) { queueName } }")
        payload = session.payload("q")
        assert payload["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        messages.append(payload["errors"][0]["message"])
        session.complete("q")
    return messages


def test_an_outage_of_an_instance_the_key_may_not_see_does_not_name_it(default_down: TestClient):
    for message in _outages(default_down, ADMIN_B):
        assert "default" not in message, message
        assert message.startswith("Redis"), message  # still says what is wrong
    for message in _outages(default_down, ADMIN):
        assert message.startswith("Redis instance 'default': "), message
