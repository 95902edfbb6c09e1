"""Subscriptions over graphql-transport-ws at /graphql (gateway/graphql/live.py and router.py):
the key in connection_init, each subscriber's own view of the shared read, the limits, errors as
codes. Fast: fakeredis under Starlette's TestClient; tests/realredis/test_subscriptions_real.py
runs them against the CLI-started gateway, a real redis-server and a real worker."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from rq import Queue
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from gateway.config import Settings
from gateway.demo import jobs
from gateway.graphql.schema import schema
from gateway.services import JobService
from tests.keyed import KEYS, keyed_client
from tests.live_session import PROTOCOL, Session, code, connect
from tests.realredis.helpers import wait_until

STATS = """subscription($queue: String, $ms: Int!) {
  queueStats(queue: $queue, intervalMs: $ms) { queueName queuedCount }
}"""
QUEUES = "subscription { queues(intervalMs: 500) { queueName queuedCount workerCount } }"
JOB = "subscription($id: ID!) { job(id: $id, intervalMs: 500) { id status args description } }"


def open_client(conn, **settings) -> TestClient:
    app = create_app(Settings(redis_url="redis://unused", **settings), connection=conn)
    return TestClient(app, raise_server_exceptions=False)


def test_queue_stats_sends_the_counts_then_each_change(client, conn):
    queue = Queue(connection=conn)
    with connect(client) as ws:
        live = Session(ws)
        assert live.init() == {"type": "connection_ack"}
        live.subscribe("1", STATS, queue=None, ms=500)
        assert live.payload("1") == {"data": {"queueStats": {"queueName": "default", "queuedCount": 0}}}
        queue.enqueue(jobs.add, 1, 2)
        assert live.payload("1")["data"]["queueStats"]["queuedCount"] == 1
        queue.enqueue(jobs.add, 1, 2)
        # The next message is the next change: no repeat of 1 was sent while nothing changed.
        assert live.payload("1")["data"]["queueStats"]["queuedCount"] == 2


def test_a_missing_or_unknown_key_closes_the_socket_with_4403_saying_why(conn):
    """The close reason says why (it was "Forbidden" whatever the cause, the why in the log only):
    a missing key says where a websocket sends it, never echoing a key sent."""
    client = keyed_client(conn)
    for key, why in (
        (None, 'Missing API key: send {"authorization": "Bearer <key>"} in connection_init\'s payload'),
        ("rqg_not-a-key", "Invalid API key"),
    ):
        with connect(client) as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                Session(ws).init(key)
            assert closed.value.code == 4403
            assert closed.value.reason == why
            assert len(closed.value.reason.encode()) <= 123


def test_an_unknown_instance_closes_the_socket_with_4403_naming_it(conn):
    client = keyed_client(conn)
    with client.websocket_connect("/graphql?instance=nope", subprotocols=[PROTOCOL]) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            Session(ws).init(KEYS["viewer"])
        assert (closed.value.code, closed.value.reason) == (4403, "Redis instance 'nope' is not configured")


def test_a_close_reason_is_cut_to_the_protocols_123_bytes(conn):
    client = keyed_client(conn)
    name = "ü" * 64  # 128 bytes of UTF-8 in the name alone
    with client.websocket_connect(f"/graphql?instance={name}", subprotocols=[PROTOCOL]) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            Session(ws).init(KEYS["viewer"])
        assert closed.value.code == 4403
        assert closed.value.reason.startswith("Redis instance 'üü")
        assert len(closed.value.reason.encode()) <= 123


def test_the_key_of_connection_init_is_the_connections_key(conn):
    client = keyed_client(conn)  # no Authorization header on the upgrade request itself
    with connect(client) as ws:
        live = Session(ws)
        assert live.init(KEYS["viewer"])["type"] == "connection_ack"
        live.subscribe("1", STATS, ms=500)
        assert live.payload("1")["data"]["queueStats"]["queueName"] == "default"


def test_a_forbidden_subscription_gets_forbidden_and_the_connection_stays_up(conn):
    Queue("billing-eu", connection=conn).enqueue(jobs.add, 1, 2)
    with connect(keyed_client(conn)) as ws:
        live = Session(ws)
        live.init(KEYS["billing"])
        live.subscribe("1", STATS, queue="default", ms=500)
        refused = live.payload("1")
        assert refused["data"] is None and code(refused) == "FORBIDDEN"
        assert live.message("1")["type"] == "complete"
        live.subscribe("2", STATS, queue="billing-eu", ms=500)
        assert live.payload("2")["data"]["queueStats"] == {"queueName": "billing-eu", "queuedCount": 1}


def test_the_queues_stream_shows_each_key_only_its_queues(conn):
    for name in ("billing-eu", "default", "reports"):
        Queue(name, connection=conn).enqueue(jobs.add, 1, 2)
    # One portal (event loop) for both sockets, as in the server: a TestClient outside a `with`
    # gives each websocket its own loop, which one process's shared pollers never face.
    with keyed_client(conn) as client, connect(client) as limited_ws, connect(client) as admin_ws:
        limited, admin = Session(limited_ws), Session(admin_ws)
        limited.init(KEYS["billing"])
        admin.init(KEYS["admin"])
        limited.subscribe("1", QUEUES)
        admin.subscribe("1", QUEUES)
        assert [q["queueName"] for q in limited.payload("1")["data"]["queues"]] == ["billing-eu"]
        assert [q["queueName"] for q in admin.payload("1")["data"]["queues"]] == [
            "billing-eu",
            "default",
            "reports",
        ]
        # One stream, one poller, two views of it (keyed by the connection's Redis instance too).
        assert list(client.app.state.live.pollers) == [("default", ("queues", 500))]


def test_hide_payloads_applies_to_the_job_stream_of_viewers(conn):
    job_id = Queue(connection=conn).enqueue(jobs.flaky_charge, "4111-1111-1111-1111").id
    with (
        keyed_client(conn, hide_payloads=True) as client,
        connect(client) as viewer_ws,
        connect(client) as admin_ws,
    ):
        viewer, admin = Session(viewer_ws), Session(admin_ws)
        viewer.init(KEYS["viewer"])
        admin.init(KEYS["admin"])
        viewer.subscribe("1", JOB, id=job_id)
        admin.subscribe("1", JOB, id=job_id)
        seen = viewer.payload("1")["data"]["job"]
        assert seen["args"] is None and seen["description"] == "gateway.demo.jobs.flaky_charge(…)"
        assert "4111" not in str(seen)
        assert admin.payload("1")["data"]["job"]["args"] == ["4111-1111-1111-1111"]


def test_a_job_outside_the_keys_patterns_is_null_as_if_it_did_not_exist(conn):
    job_id = Queue("default", connection=conn).enqueue(jobs.add, 1, 2).id
    with connect(keyed_client(conn)) as ws:
        live = Session(ws)
        live.init(KEYS["billing"])
        live.subscribe("1", JOB, id=job_id)
        assert live.payload("1") == {"data": {"job": None}}
        assert live.message("1")["type"] == "complete"


def test_the_job_stream_is_null_and_completes_once_the_job_is_deleted(client, conn):
    job = Queue(connection=conn).enqueue(jobs.add, 1, 2)
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        live.subscribe("1", JOB, id=job.id)
        assert live.payload("1")["data"]["job"]["status"] == "QUEUED"
        job.delete()
        assert live.payload("1") == {"data": {"job": None}}
        assert live.message("1")["type"] == "complete"


def test_an_interval_under_500_ms_is_bad_request(client):
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        live.subscribe("1", STATS, ms=499)
        refused = live.payload("1")
        assert code(refused) == "BAD_REQUEST" and "at least 500" in refused["errors"][0]["message"]


def test_subscriptions_past_the_connection_limit_get_limit_exceeded(conn):
    client = open_client(conn, max_subscriptions_per_connection=1)
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        live.subscribe("1", STATS, ms=500)
        live.payload("1")
        live.subscribe("2", STATS, ms=600)
        refused = live.payload("2")
        assert code(refused) == "LIMIT_EXCEEDED" and "--max-subscriptions-per-connection" in str(refused)
        live.complete("1")
        live.subscribe("3", STATS, ms=600)  # one slot free again: the connection is still usable
        assert live.payload("3")["data"]["queueStats"]["queuedCount"] == 0


def test_connections_past_the_process_limit_are_closed_with_1013(conn):
    with open_client(conn, max_websocket_connections=1) as client, connect(client) as first:
        assert Session(first).init() == {"type": "connection_ack"}
        with connect(client) as second, pytest.raises(WebSocketDisconnect) as closed:
            second.receive_json()
        assert closed.value.code == 1013
        first.close()
        wait_until(lambda: client.app.state.live.connections == 0, 5, "the first socket's slot to free")
        with connect(client) as again:  # the first one's slot is free once it closed
            assert Session(again).init() == {"type": "connection_ack"}


def test_a_redis_outage_is_service_unavailable_then_the_stream_resumes(client, conn):
    server = conn.connection_pool.connection_kwargs["server"]
    with connect(client) as ws:
        live = Session(ws)
        live.init()
        live.subscribe("1", STATS, ms=500)
        assert live.payload("1")["data"]["queueStats"]["queuedCount"] == 0
        server.connected = False
        down = live.payload("1")
        assert down["data"] is None and code(down) == "SERVICE_UNAVAILABLE"
        server.connected = True
        # The same subscription, on the same socket: no reconnect.
        assert live.payload("1")["data"]["queueStats"]["queuedCount"] == 0


@pytest.mark.parametrize(
    ("read", "query"),
    [
        ("stats", "subscription { queueStats(intervalMs: 500) { queuedCount } }"),
        ("queues", "subscription { queues(intervalMs: 500) { queueName } }"),
        ("sight_job", 'subscription { job(id: "some-job", intervalMs: 500) { id } }'),
    ],
)
def test_subscription_reads_run_off_the_event_loop(client, conn, monkeypatch, read, query):
    """The pollers' reads are the only Redis calls of a subscription (each subscriber's view is
    computed from their answer): each runs in a worker thread, never on the event loop's."""
    Queue(connection=conn).enqueue(jobs.add, 1, 2, job_id="some-job")
    threads = []
    original = getattr(client.app.state.service, read)

    def record(*args):
        threads.append(threading.current_thread())
        return original(*args)

    monkeypatch.setattr(client.app.state.service, read, record)
    loop_threads = []

    @client.app.get("/_loop_thread")
    async def loop_thread():
        loop_threads.append(threading.current_thread())
        return {}

    with client, connect(client) as ws:  # one portal: the endpoint runs on the socket's loop
        client.get("/_loop_thread")
        live = Session(ws)
        live.init()
        live.subscribe("1", query)
        assert "errors" not in live.payload("1")
    assert threads and loop_threads and loop_threads[0] not in threads


def test_a_browser_page_of_another_origin_cannot_open_the_socket(conn):
    """No key is needed on loopback: another site's page must not drive the gateway through the
    user's browser (websockets get no CORS), so only the gateway's own origin and --cors-origins
    may; clients that send no Origin are not browsers."""
    client = open_client(conn, cors_origins=("https://dash.example",))
    for origin in ("https://evil.example", "http://testserver.evil.example", "null"):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(
                "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": origin}
            ),
        ):
            pass
        assert refused.value.code == 1008
    for origin in ("http://testserver", "https://dash.example", None):
        headers = {"Origin": origin} if origin else {}
        with client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers=headers
        ) as ws:
            assert Session(ws).init() == {"type": "connection_ack"}


@pytest.mark.parametrize(
    "accept", ["application/json", "multipart/mixed;subscriptionSpec=1.0,application/json"]
)
def test_a_subscription_sent_over_http_is_bad_request_not_a_query(client, accept):
    response = client.post(
        "/graphql", json={"query": "subscription { queueStats { queuedCount } }"}, headers={"Accept": accept}
    )
    body = response.json()
    assert body["data"] is None and code(body) == "BAD_REQUEST"
    assert "websocket" in body["errors"][0]["message"]


# Every subscription addressed by an id, with a maker of one such thing in a queue of its own
# (outside the `billing-*` key's patterns) and an id of the same form that names nothing.
def _job_in(conn, queue: str) -> str:
    return Queue(queue, connection=conn).enqueue(jobs.add, 1, 2).id


def _operation_in(conn, queue: str) -> str:
    Queue(queue, connection=conn).enqueue(jobs.add, 1, 2)  # a queue RQ knows
    service = JobService(conn)
    service.use_operations()
    operation, _ = service.start_operation("retry", {"job_ids": ["no-such-job"]}, queue)
    return operation.id


ID_STREAMS = {
    "job": ("subscription($id: ID!) { job(id: $id, intervalMs: 500) { id status } }", _job_in, "gone-job"),
    "operation": (
        "subscription($id: ID!) { operation(id: $id, intervalMs: 500) { id status } }",
        _operation_in,
        "0" * 32,
    ),
}


def test_every_subscription_addressed_by_an_id_is_in_the_hidden_id_test():
    subscription = schema._schema.subscription_type
    assert subscription is not None
    fields = subscription.fields
    assert {name for name, field in fields.items() if "id" in field.args} == set(ID_STREAMS)


@pytest.mark.parametrize("field", sorted(ID_STREAMS))
def test_an_id_in_a_queue_outside_the_keys_patterns_answers_as_one_that_does_not_exist(conn, field):
    """A key limited to billing-* subscribing to a thing of queue `bulk` gets exactly what it
    gets for an id that names nothing: the same messages, ending with `complete` (the operation
    stream sent its NOT_FOUND and stayed open, holding one of the connection's slots)."""
    query, make, missing_id = ID_STREAMS[field]
    hidden_id = make(conn, "bulk")
    with connect(keyed_client(conn)) as ws:
        live = Session(ws)
        live.init(KEYS["billing"])
        live.subscribe("missing", query, id=missing_id)
        missing = [live.message("missing"), live.message("missing")]
        assert missing[-1]["type"] == "complete"
        live.subscribe("hidden", query, id=hidden_id)
        first = live.message("hidden")
        wait_until(lambda: live.settle() or len(live.pending("hidden")) >= 1, 5, "the hidden stream to end")
        hidden = [first, *live.pending("hidden")]

    def shown(messages: list[dict], thing_id: str) -> str:
        without_ids = [{k: v for k, v in m.items() if k != "id"} for m in messages]
        return json.dumps(without_ids).replace(thing_id, "ID")

    assert shown(hidden, hidden_id) == shown(missing, missing_id)


INVALID_MESSAGES = {
    "nested too deeply": '{"id": "1", "type": "subscribe", "payload": ' + "[" * 5000 + "]" * 5000 + "}",
    # json.loads raises a plain ValueError (not JSONDecodeError) past its 4300-digit int limit
    "an integer too long": '{"type": "ping", "payload": {"n": ' + "1" * 5000 + "}}",
    "not an object": "[1]",
    "a number": "5",
    "type not a string": '{"type": 1}',
    # A subscribe of the wrong shape: test_graphql_live_protocol, with the reason the close gives.
}


@pytest.mark.parametrize("text", INVALID_MESSAGES.values(), ids=INVALID_MESSAGES.keys())
def test_a_message_of_another_shape_closes_the_socket_with_4400(client, text):
    """graphql-transport-ws: an invalid message closes the socket with 4400. Strawberry decoded
    and dispatched any JSON, so these failed inside its handler (a traceback in the log, the
    socket dropped without a close frame, or a `complete` for an operation that never ran)."""
    with connect(client) as ws:
        live = Session(ws)
        assert live.init() == {"type": "connection_ack"}
        ws.send_text(text)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4400
