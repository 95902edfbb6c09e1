"""graphql-transport-ws messages a client gets wrong, and operations the HTTP path refuses, over
the websocket: each is a clear answer (an `error` with a code, or a 4400 close naming what is
wrong), never a dropped connection, a bare `complete`, or a limit that HTTP applies and the
socket does not."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.keyed import KEYS, keyed_client
from tests.live_session import Session, connect

STATS = "subscription { queueStats(intervalMs: 500) { queuedCount } }"
# Over the cost limit (40000): every queue's page of 1000 jobs, each queue counted as 1000.
COSTLY = "{ queues { jobs(first: 1000) { edges { node { id } } } } }"


def _error_code(message: dict) -> str:
    assert message["type"] == "error", message
    return message["payload"][0]["extensions"]["code"]


@pytest.mark.parametrize(
    "query",
    ["subscription { ", "subscription { queueStats { " + "queuedCount " * 2100 + "} }", "{ viewer { "],
    ids=["syntax", "too-many-tokens", "query-syntax"],
)
def test_a_document_that_does_not_parse_is_a_bad_request_error_and_the_socket_stays(client, query):
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        live.subscribe("1", STATS)
        assert live.payload("1")["data"]["queueStats"]["queuedCount"] == 0
        live.subscribe("2", query)
        refused = live.message("2")
        assert _error_code(refused) == "BAD_REQUEST"
        assert "Syntax Error" in refused["payload"][0]["message"]
        live.subscribe("3", STATS)  # the connection and its other operations go on
        assert live.payload("3")["data"]["queueStats"]["queuedCount"] == 0


@pytest.mark.parametrize(
    "operation", ["subscription { queues { queueName jobs(first: 1000) { edges { node { id } } } } }", COSTLY]
)
def test_the_query_cost_limit_applies_over_the_socket_too(client, operation):
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        live.subscribe("1", operation)
        message = live.message("1")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_REQUEST"
        assert errors[0]["extensions"]["maxCost"] == 40000


@pytest.mark.parametrize(
    "message",
    [
        {"id": "1", "type": "subscribe", "payload": "x"},
        {"id": "1", "type": "subscribe", "payload": [1]},
        {"id": "1", "type": "subscribe", "payload": {}},
        {"id": "1", "type": "subscribe", "payload": {"query": 5}},
        {"id": "1", "type": "subscribe", "payload": {"query": STATS, "variables": "x"}},
        {"id": "1", "type": "subscribe", "payload": {"query": STATS, "operationName": 5}},
        {"id": "1", "type": "subscribe", "payload": {"query": STATS, "extensions": 5}},
        {"id": 1, "type": "subscribe", "payload": {"query": STATS}},
        {"type": "subscribe", "payload": {"query": STATS}},
    ],
    ids=[
        "payload-text",
        "payload-list",
        "no-query",
        "query-number",
        "variables-text",
        "name-number",
        "extensions-number",
        "id-number",
        "no-id",
    ],
)
def test_a_subscribe_message_of_the_wrong_shape_closes_the_socket_with_4400(client, message):
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        ws.send_json(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4400
        assert closed.value.reason.startswith("Invalid subscribe message: ")


def test_a_null_connection_init_payload_is_an_empty_one(client):
    """graphql-transport-ws: `payload?: Record<string, unknown> | null`."""
    with connect(client) as ws:
        ws.send_json({"type": "connection_init", "payload": None})
        assert ws.receive_json() == {"type": "connection_ack"}


@pytest.mark.parametrize("name", ["authorization", "Authorization", "AUTHORIZATION"])
def test_the_key_s_field_in_connection_init_is_read_whatever_its_case(conn, name):
    """It carries an HTTP header's value, and HTTP header names have no case: clients written
    after Apollo's examples send `Authorization`."""
    with connect(keyed_client(conn)) as ws:
        ws.send_json({"type": "connection_init", "payload": {name: f"Bearer {KEYS['viewer']}"}})
        assert ws.receive_json() == {"type": "connection_ack"}
        live = Session(ws)
        live.subscribe("1", "{ viewer { name } }")
        assert live.payload("1")["data"]["viewer"]["name"] == "viewer"


def test_two_keys_in_connection_init_are_refused(conn):
    """Which of two differently cased keys counts would be a guess: neither does."""
    payload = {"authorization": f"Bearer {KEYS['viewer']}", "Authorization": f"Bearer {KEYS['admin']}"}
    with connect(keyed_client(conn)) as ws:
        ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"query": "subscription a { queueStats { queuedCount } }", "operationName": "nope"}, "nope"),
        ({"query": ""}, "query"),
        ({"query": "{ __typename }"}, None),
    ],
    ids=["unknown-operation", "empty-query", "a-query-runs"],
)
def test_a_request_strawberry_refuses_before_execution_is_bad_request_not_internal(client, payload, message):
    """Over HTTP these are a 400 with BAD_REQUEST; over the socket they were INTERNAL."""
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        answer = live.message("1")
        if message is None:
            assert answer["payload"] == {"data": {"__typename": "Query"}}
            return
        assert _error_code(answer) == "BAD_REQUEST"
        assert message in answer["payload"][0]["message"]
