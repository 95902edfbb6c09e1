"""The graphql-transport-ws handler, with what Strawberry's lets through answered as the
protocol says (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md):

- a message of invalid shape closes the socket with 4400 and says what is wrong: a subscribe
  whose `id` is not a string, whose `payload` is not an object, whose `query` is not a string,
  `variables`/`extensions` not an object or `operationName` not a string (Strawberry indexed
  such a payload and died with the connection, 1006, or answered INTERNAL);
- a `connection_init` whose `payload` is null is one without a payload (the protocol allows
  null; Strawberry closed with 4400);
- a refused `connection_init` closes with 4403 saying why (Strawberry's reason is always
  "Forbidden"): the router's on_ws_connect leaves the reason in the context under `REFUSAL`;
- a document that does not parse (a syntax error, more tokens than --graphql-max-tokens) is that
  operation's `error` with BAD_REQUEST, as any invalid document is, and the connection's other
  operations go on (Strawberry closed the socket, or sent a bare `complete`; see
  schema.ParseErrorsInOperation for the other half).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

if TYPE_CHECKING:
    from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

_OPTIONAL_OBJECTS = ("variables", "extensions")

REFUSAL = "refusal"  # the context key of why on_ws_connect refused the connection
FORBIDDEN = 4403
_MAX_REASON = 123  # bytes of UTF-8 a close frame's reason may hold (RFC 6455 5.5)


def close_reason(text: str) -> str:
    """`text` as a close reason: cut, at a whole character, to the 123 bytes a close frame holds."""
    data = text.encode("utf-8")
    if len(data) <= _MAX_REASON:
        return text
    return data[: _MAX_REASON - 3].decode("utf-8", "ignore") + "..."


class _SaysWhy:
    """The handler's websocket, whose 4403 says why the connection was refused."""

    def __init__(self, websocket: Any, context: Any):
        self._websocket = websocket
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._websocket, name)

    async def close(self, code: int, reason: str) -> None:
        why = self._context.get(REFUSAL) if isinstance(self._context, dict) else None
        if code == FORBIDDEN and why:
            reason = close_reason(cast("str", why))
        await self._websocket.close(code, reason)


def subscribe_shape_error(message: dict[str, Any]) -> str | None:
    """What is wrong with a subscribe message's shape, or None."""
    if not isinstance(message.get("id"), str):
        return "Invalid subscribe message: id must be a string"
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "Invalid subscribe message: payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "Invalid subscribe message: payload.query must be a string"
    for name in _OPTIONAL_OBJECTS:
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            return f"Invalid subscribe message: payload.{name} must be an object"
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        return "Invalid subscribe message: payload.operationName must be a string"
    return None


class GatewayTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = cast("Any", _SaysWhy(self.websocket, self.context))

    async def handle_message(self, message: Any) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        problem = subscribe_shape_error(message) if kind == "subscribe" else None
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if kind == "connection_init" and "payload" in message and message["payload"] is None:
            message = {**message, "payload": {}}
        await super().handle_message(cast("Message", message))

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        """No close for a document that does not parse: it is the operation's error."""
        return None
