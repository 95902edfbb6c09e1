"""A graphql-transport-ws session over Starlette's TestClient websocket, for the fast tests of
subscriptions (tests/realredis/live_client.py speaks the same protocol over a real socket)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi.testclient import TestClient

PROTOCOL = "graphql-transport-ws"


class Session:
    def __init__(self, websocket: Any):
        self.ws = websocket
        self._waiting: dict[str, list[dict]] = defaultdict(list)

    def init(self, key: str | None = None) -> dict:
        payload = {"authorization": f"Bearer {key}"} if key else {}
        self.ws.send_json({"type": "connection_init", "payload": payload})
        return self.ws.receive_json()

    def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        payload = {"query": query, "variables": variables}
        self.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})

    def complete(self, op_id: str) -> None:
        self.ws.send_json({"id": op_id, "type": "complete"})

    def message(self, op_id: str) -> dict:
        """The next message of operation `op_id` (next, error or complete)."""
        while not self._waiting[op_id]:
            message = self.ws.receive_json()
            self._waiting[message.get("id", "")].append(message)
        return self._waiting[op_id].pop(0)

    def settle(self) -> None:
        """Read every message the server sent before it answers a ping (graphql-transport-ws
        `ping`/`pong`) into the per-operation queues, without waiting for any one operation."""
        self.ws.send_json({"type": "ping"})
        while (message := self.ws.receive_json())["type"] != "pong":
            self._waiting[message.get("id", "")].append(message)

    def pending(self, op_id: str) -> list[dict]:
        """The messages of `op_id` received and not read yet (see settle)."""
        return list(self._waiting[op_id])

    def payload(self, op_id: str) -> dict:
        message = self.message(op_id)
        assert message["type"] == "next", message
        return message["payload"]


def connect(client: TestClient):
    return client.websocket_connect("/graphql", subprotocols=[PROTOCOL])


def code(payload: dict) -> str:
    return payload["errors"][0]["extensions"]["code"]
