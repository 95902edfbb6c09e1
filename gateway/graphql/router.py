"""Mounts the schema at /graphql with GraphiQL (page in gateway/docs_pages.py); the context
reuses the REST dependency provider."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit

import strawberry
from cross_web import HTTPException
from fastapi import Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.docs_pages import graphiql_page
from gateway.errors import InstanceNotFound
from gateway.graphql.schema import schema as default_schema
from gateway.graphql.transport_ws import REFUSAL, GatewayTransportWSHandler, subscribe_shape_error
from gateway.live import LiveHub
from gateway.middleware import request_id_of
from gateway.rest.deps import bind_instance, bind_principal, get_service, principal_of
from gateway.services import ANONYMOUS, MISSING_KEY, read_json

log = logging.getLogger(__name__)

# The close code of a websocket over --max-websocket-connections: 1013, "Try Again Later".
TOO_MANY_CONNECTIONS = 1013


def _origin_allowed(websocket: WebSocket) -> bool:
    """Browsers apply neither the same-origin policy nor CORS to websockets, so without this
    check any page a user opens could drive a gateway that needs no key (loopback, demo) through
    the user's browser, mutations included. A browser always sends Origin: it must be the
    gateway's own origin or one of --cors-origins. Clients without Origin are not browsers."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in websocket.app.state.settings.cors_origins:
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


async def _context(connection: HTTPConnection) -> dict[str, Any]:
    if connection.scope["type"] == "websocket":
        # The key arrives later, in connection_init: _Router.on_ws_connect binds the service.
        state = connection.app.state
        return {"service": None, "request_id": uuid.uuid4().hex, "live": state.live}
    # The service is bound to the request's API key: a missing or invalid key is refused by each
    # field that reads or changes data, with UNAUTHENTICATED, not by the HTTP layer.
    request = cast("Request", connection)
    service = await get_service(request, request.query_params.get("instance"))
    return {
        "service": service,
        "request_id": request_id_of(connection.scope),
        # Several Redis instances (graphql/instances.py): `instance(name:)` binds its own.
        "instances": request.app.state.instances,
        "bind_instance": lambda name: bind_instance(request, name),
        "key_principal": principal_of(request),
        "by_instance_field": {},
    }


def _well_formed(message: Any) -> bool:
    """Whether Strawberry's protocol handlers can take the message at all. A graphql-transport-ws
    subscribe of the wrong shape is let through: GatewayTransportWSHandler closes the socket with
    a 4400 that names what is wrong. A legacy graphql-ws start is held to the same shape
    (subscribe_shape_error), and the legacy protocol ignores what it cannot parse."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    if message["type"] == "subscribe":
        return True
    if "id" in message and not isinstance(message["id"], str):
        return False
    return message["type"] != "start" or subscribe_shape_error(message) is None


def _authorization(params: Any) -> str | None:
    """The `authorization` of a connection_init payload, its name in any case (it carries an HTTP
    header's value; clients after Apollo's examples send `Authorization`). Two of them, in
    different cases, are no key: which one counts would be a guess."""
    if not isinstance(params, dict):
        return None
    found = [
        value for name, value in params.items() if isinstance(name, str) and name.lower() == "authorization"
    ]
    return found[0] if len(found) == 1 and isinstance(found[0], str) else None


# Where a websocket sends its key: not the header REST's MISSING_KEY names.
WS_MISSING_KEY = 'Missing API key: send {"authorization": "Bearer <key>"} in connection_init\'s payload'


def _refuse(context: dict[str, Any], why: str) -> NoReturn:
    """Refuse the connection_init: 4403 with `why` as the close reason (transport_ws.REFUSAL), and
    the legacy graphql-ws protocol's connection_error payload. `why` names no key or token."""
    log.warning("Websocket connection refused: %s (connection %s)", why, context["request_id"])
    context[REFUSAL] = why
    raise ConnectionRejectionError({"message": why})


class _Router(GraphQLRouter):
    graphql_transport_ws_handler_class = GatewayTransportWSHandler

    def parse_json(self, data: str | bytes) -> Any:
        """The request's JSON, or a 400: Strawberry turns only JSONDecodeError into one, so a body
        nested deeper than the decoder's recursion limit, bytes that are not UTF-8, or a body that
        is not an object were 500s."""
        try:
            value = read_json(data.decode("utf-8") if isinstance(data, bytes) else data)
        except UnicodeDecodeError:
            raise HTTPException(400, "Invalid JSON: the body is not UTF-8") from None
        except ValueError as error:  # not JSON, or nested too deeply (read_json says which)
            raise HTTPException(400, f"Invalid JSON: {error}") from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "Invalid request: expected a JSON object")
        return value

    def decode_json(self, data: str | bytes) -> object:
        """A websocket message (HTTP bodies go through parse_json). Strawberry dispatches any JSON
        to its protocol handlers, which index it unchecked, so a message nested too deeply, not an
        object, or a subscribe whose id or payload fields are of another type failed inside them
        (a traceback, the socket dropped with no close frame). Such a message is not JSON to them:
        graphql-transport-ws closes the socket with 4400, as the protocol says, and the legacy
        graphql-ws ignores it, as it ignores every message it cannot parse. read_json (the
        services' one reader of JSON the gateway did not write) raises ValueError for such nesting
        and for an integer past its digit limit: neither is the JSONDecodeError Strawberry catches."""
        try:
            message = read_json(data)
        except ValueError:
            message = None
        if not _well_formed(message):
            raise json.JSONDecodeError("Invalid message", "", 0)
        return message

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """A request Strawberry refuses before execution (400) answers like every other GraphQL
        error, with BAD_REQUEST, and with `detail` as REST's errors and the 413 do."""
        if self.is_websocket_request(request):
            return await self._run_websocket(request, context, root_value)
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as error:
            if error.status_code != 400:
                raise
            error_body = {"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}
            return JSONResponse({"detail": error.reason, "errors": [error_body]}, status_code=400)

    async def _run_websocket(self, websocket: WebSocket, context: Any, root_value: Any) -> Any:
        """One websocket connection, within the process's --max-websocket-connections: past it,
        the socket is accepted and closed at once with TOO_MANY_CONNECTIONS."""
        if not _origin_allowed(websocket):
            # Refused before the handshake (an HTTP 403): see _origin_allowed.
            await websocket.close(code=1008)
            return websocket
        hub: LiveHub = websocket.app.state.live
        connection = hub.open_connection()
        if connection is None:
            await websocket.accept(subprotocol=await self.pick_websocket_subprotocol(websocket))
            await websocket.close(TOO_MANY_CONNECTIONS, "Too many websocket connections; try again later")
            return websocket
        context["live_connection"] = connection
        try:
            return await super().run(websocket, context=context, root_value=root_value)
        finally:
            hub.close_connection()

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """Strawberry's own origin check (in newer releases) defers to _origin_allowed, which
        _run_websocket applied already, so there is one rule whatever the release."""
        return True

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        """The key arrives in connection_init as {"authorization": "Bearer <key>"}. With keys
        configured, a missing or unknown one closes the socket with 4403 (graphql-transport-ws's
        Forbidden), its close reason saying which; otherwise the connection's operations run on
        the service bound to it, on the Redis instance the websocket URL names
        (`/graphql?instance=NAME`, else the default). An instance the gateway is not configured
        with is refused the same way, once the key is valid (so its names are not told to
        anonymous callers), and named in the close reason and the log."""
        request = context["request"]
        state = request.app.state
        principal = state.keyring.principal(_authorization(context.get("connection_params")), ANONYMOUS)
        if principal.role is None:
            _refuse(context, WS_MISSING_KEY if principal.refusal == MISSING_KEY else principal.refusal)
        instance = request.query_params.get("instance")
        try:
            context["service"] = bind_principal(state, principal, instance, context["request_id"])
        except InstanceNotFound as error:
            _refuse(context, error.message)
        # The live streams read with the instance's unbound service, and are keyed by its name,
        # so two instances never share a poller (graphql/live.py).
        context["unbound_service"] = state.instances.service(instance)
        context["instance"] = instance or state.instances.default
        context["instances"] = state.instances
        context["key_principal"] = principal
        return UNSET

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error leaves with a code: syntax errors (a query over --graphql-max-tokens too)
        end before the schema extensions' error processing, so they get BAD_REQUEST here."""
        response = await super().process_result(request, result)
        # Strawberry types them as objects; they are graphql-core's formatted errors, dicts.
        for error in cast("list[dict[str, Any]]", response.get("errors") or []):
            extensions = error.setdefault("extensions", {})
            extensions.setdefault("code", "BAD_REQUEST")
        return response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the package's own files, not Strawberry's page that loads from a CDN."""
        return graphiql_page()


def graphql_router(schema: strawberry.Schema | None = None, graphiql: bool = True) -> GraphQLRouter:
    router = _Router(
        schema or default_schema,
        context_getter=_context,
        graphql_ide="graphiql" if graphiql else None,
        include_in_schema=False,
    )
    # The limit of subscriptions per connection is the hub's, which answers LIMIT_EXCEEDED;
    # Strawberry's own (in newer releases) counts every operation and answers without a code.
    router.max_subscriptions_per_connection = None
    return router
