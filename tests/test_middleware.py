"""gateway/middleware.py: RequestGuards gives every HTTP request an id and cuts off bodies over the
limit, whether the size is declared or only counted as the body arrives. Tested around a bare ASGI
app, so nothing else (routing, FastAPI's handlers) can do the work for it."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.middleware import REQUEST_ID_HEADER, RequestGuards, request_id_of
from tests.keyed import keyed_client

LIMIT = 10
FRESH_ID = re.compile(r"[0-9a-f]{32}")


class BodyEcho:
    """Reads the whole body, then answers with its length; records what it saw."""

    def __init__(self, catch: bool = False) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.catch = catch  # answer anyway when reading fails, as a framework's error handler would

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        try:
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
        except Exception:
            if not self.catch:
                raise
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"handled"})
            return
        self.seen.append((request_id_of(scope), body))
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"read %d" % len(body)})


def guarded(app) -> TestClient:
    return TestClient(RequestGuards(app, max_body_size=LIMIT))


def test_each_request_gets_a_fresh_id_that_the_app_and_the_client_both_see():
    app = BodyEcho()
    client = guarded(app)
    first, second = client.get("/").headers[REQUEST_ID_HEADER], client.get("/").headers[REQUEST_ID_HEADER]
    assert FRESH_ID.fullmatch(first) and FRESH_ID.fullmatch(second) and first != second
    assert [request_id for request_id, _ in app.seen] == [first, second]


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=200))
def test_a_client_id_is_echoed_only_when_short_and_plain(offered):
    response = guarded(BodyEcho()).get("/", headers={REQUEST_ID_HEADER: offered})
    plain = re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", offered)
    answered = response.headers[REQUEST_ID_HEADER]
    assert answered == offered if plain else FRESH_ID.fullmatch(answered)


def test_request_ids_are_generated_echoed_or_replaced(conn):
    client = keyed_client(conn, "viewer")
    generated = client.get("/api/v1/jobs/stats").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz", headers={"X-Request-ID": "lb-123"}).headers["X-Request-ID"] == "lb-123"
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 200}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", hostile)


def test_a_body_of_exactly_the_limit_reaches_the_app_whole():
    app = BodyEcho()
    streamed = guarded(app).post("/", content=iter([b"12345", b"67890"]))
    declared = guarded(app).post("/", content=b"1234567890")
    assert (streamed.status_code, streamed.text, declared.text) == (200, "read 10", "read 10")
    assert [body for _, body in app.seen] == [b"1234567890"] * 2


def _assert_refused(response, graphql: bool = False) -> None:
    message = f"Request body too large: the limit is {LIMIT} bytes"
    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    assert FRESH_ID.fullmatch(response.headers[REQUEST_ID_HEADER])
    expected = {"detail": message}
    if graphql:
        expected["errors"] = [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]
    assert response.json() == expected


@pytest.mark.parametrize("path", ["/api/v1/jobs/failed/retry", "/graphql", "/graphql/"])
def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs(path):
    app = BodyEcho()
    response = guarded(app).post(path, content=b"x" * (LIMIT + 1))
    _assert_refused(response, graphql=path.startswith("/graphql"))
    assert app.seen == []


@pytest.mark.parametrize("catch", [False, True])
def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(catch):
    """Without Content-Length the size is counted as chunks arrive; whatever the app then answers
    (here, a handler that turns the failed read into its own 500) is replaced by the 413."""
    app = BodyEcho(catch=catch)
    response = guarded(app).post("/graphql", content=iter([b"x" * LIMIT, b"y"]))
    _assert_refused(response, graphql=True)
    assert app.seen == []


def test_errors_of_the_app_itself_are_not_swallowed():
    async def failing(scope, receive, send):
        raise RuntimeError("the app's own failure")

    with pytest.raises(RuntimeError, match="the app's own failure"):
        guarded(failing).post("/", content=b"small")


def test_other_scopes_pass_through_untouched():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope)

    scope = {"type": "lifespan"}
    asyncio.run(RequestGuards(app, max_body_size=LIMIT)(scope, None, None))
    assert calls == [{"type": "lifespan"}], "no request id or state is added outside HTTP"
