"""A graphql-transport-ws client over a real socket (the `websockets` package), for the
subscription tests against the CLI-started gateway; and Redis's own count of the commands it
served (INFO commandstats), which is how "1,000 subscribers cost what one costs" is measured."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Any

import redis
from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"
STATS = """subscription($queue: String, $ms: Int!) {
  queueStats(queue: $queue, intervalMs: $ms) { queueName queuedCount failedCount }
}"""
JOB = "subscription($id: ID!, $ms: Int!) { job(id: $id, intervalMs: $ms) { id status args description } }"


class LiveClient:
    """One connection. `message(op_id)` returns that operation's next message, in order."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self._waiting: dict[str, list[dict]] = defaultdict(list)

    @classmethod
    async def open(cls, base: str, key: str | None = None, instance: str | None = None) -> LiveClient:
        """A connection to /graphql, or to /graphql?instance=NAME (that Redis instance's streams)."""
        path = "/graphql" + (f"?instance={instance}" if instance else "")
        ws = await connect(base.replace("http", "ws", 1) + path, subprotocols=[PROTOCOL])
        client = cls(ws)
        payload = {"authorization": f"Bearer {key}"} if key else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        return client

    async def acknowledged(self) -> bool:
        return json.loads(await asyncio.wait_for(self.ws.recv(), 10))["type"] == "connection_ack"

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        message = {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        await self.ws.send(json.dumps(message))

    async def complete(self, op_id: str) -> None:
        await self.ws.send(json.dumps({"id": op_id, "type": "complete"}))

    async def message(self, op_id: str, timeout: float = 15) -> dict:
        while not self._waiting[op_id]:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            self._waiting[message.get("id", "")].append(message)
        return self._waiting[op_id].pop(0)

    async def payload(self, op_id: str, timeout: float = 15) -> dict:
        message = await self.message(op_id, timeout)
        assert message["type"] == "next", message
        return message["payload"]

    async def close(self) -> None:
        await self.ws.close()


def command_calls(r: redis.Redis) -> int:
    """Commands Redis has served, all clients together, less the INFO calls that read it."""
    stats = r.info("commandstats")
    return sum(
        int(entry["calls"]) for name, entry in stats.items() if name not in ("cmdstat_info", "cmdstat_ping")
    )


def _llen_calls(r: redis.Redis) -> int:
    return int(r.info("commandstats").get("cmdstat_llen", {}).get("calls", 0))


async def _next_poll(r: redis.Redis, timeout: float = 10) -> None:
    """Return once one more stats read has reached Redis (each reads the queue's length once,
    in one MULTI/EXEC, so when its LLEN is counted, the whole read is)."""
    before, deadline = _llen_calls(r), time.monotonic() + timeout
    while _llen_calls(r) == before:
        assert time.monotonic() < deadline, "no stats read reached Redis"
        await asyncio.sleep(0.005)  # polling Redis's counter; bounded by the deadline


async def calls_per_second(r: redis.Redis, polls: int) -> float:
    """Redis commands per second over a window that opens and closes just after a stats read,
    `polls` reads apart: the window holds whole reads, so a rate is not off by the one read a
    window of fixed length may or may not catch."""
    await _next_poll(r)
    start, before = time.monotonic(), command_calls(r)
    for _ in range(polls):
        await _next_poll(r)
    return (command_calls(r) - before) / (time.monotonic() - start)
