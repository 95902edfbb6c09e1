"""ASGI middleware shared by REST and GraphQL: the request id, and the request body size limit.

Plain ASGI rather than BaseHTTPMiddleware: it adds no task or stream copy per request."""

from __future__ import annotations

import json
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import bind_request

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed and logged, so only a short, plain one is accepted; others are replaced.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    return scope.get("state", {}).get("request_id", "")


class _BodyTooLarge(Exception):
    pass


class RequestGuards:
    """Gives every HTTP request an id (the client's `X-Request-ID` or a new one), echoes it in
    the response, and answers 413 once the body passes `max_body_size` bytes."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        offered = headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _CLIENT_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        bind_request(request_id)

        received = 0
        too_large = False
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if too_large:
                return  # the app's answer to a body we cut off is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_size:
                    too_large = True
                    raise _BodyTooLarge()
            return message

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_size:
            await self._too_large(scope, send, request_id)
            return
        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            pass
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._too_large(scope, send, request_id)

    async def _too_large(self, scope: Scope, send: Send, request_id: str) -> None:
        message = f"Request body too large: the limit is {self.max_body_size} bytes"
        body: dict = {"detail": message}
        if scope["path"].rstrip("/").endswith("/graphql"):
            body["errors"] = [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
