"""One request run through an ASGI app by hand: what the test client cannot send (header bytes
that are not UTF-8, which it re-encodes) or see (each message of a streamed answer, a client that
stays connected)."""

from __future__ import annotations

import asyncio


def call_asgi(
    app,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: bytes = b"",
    raw_headers: tuple[tuple[bytes, bytes], ...] = (),
):
    """Run one request through the ASGI app; (messages sent, exception raised or None)."""
    messages: list[dict] = []
    sent_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"test"), *sent_headers, *raw_headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }

    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        messages.append(message)

    async def run():
        try:
            await app(scope, receive, send)
        except Exception as error:
            return error
        return None

    return messages, asyncio.run(run())


def status_and_body(messages: list[dict]) -> tuple[int, bytes]:
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], body
