"""Every failed job of a queue, walked by Redis itself: one Lua call (operation_walk.lua) reads
the next live registry entries after the operation's stored position, acts on them and records
the progress, so no job id passes through the gateway. The operation over `{"all": true}`, the
one that reaches a million jobs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as LostConnection
from redis.exceptions import NoScriptError

from gateway.services.operations import store
from gateway.services.operations.model import ERRORS_KEPT
from gateway.services.operations.steps import ENDED, Step, act_args, chunk_keys, counted_errors, error_codes
from gateway.services.redis import scripts
from gateway.services.redis.queued import QueuedCalls
from gateway.services.redis.registry import decode_cursor, now_timestamp


class RegistrySteps:
    """Every failed job up to `bound` (the registry's last entry when the operation started), read,
    acted on and recorded by one Lua call per chunk (operation_walk.lua), which keeps the position.

    The walk keeps `depth` calls queued on a connection of its own: it sends the next call before
    it reads the reply of the one before. Each call reads its position from the operation, so it
    goes on where the one before stopped (or finds the walk ended, or refuses as the one before
    did), and Redis never sits idle while the gateway reads a reply and sends the next call: at a
    million jobs those turnarounds were a quarter of the walk's time when each round trip waited
    for its replies. Each call stays one bounded chunk, and Redis serves the other clients between
    two calls, so another client's command waits at most for the call running and one queued
    beside it (twice pacing.TARGET_SECONDS, as when two calls went in one round trip).

    A step is one call's reply. Its time runs from when Redis could start the call (its sending,
    or the reply before it, whichever came later) to its reply, on the gateway's clock."""

    def __init__(
        self,
        connection: Redis,
        queue: str,
        action: str,
        bound: str,
        operation_id: str,
        token: str,
        depth: int = 2,
        only_origin: str = "",
        clock: Callable[[], float] = time.perf_counter,
    ):
        retry = action == "retry"
        script = scripts.OPERATION_WALK_REQUEUE if retry else scripts.OPERATION_WALK_DELETE
        self._calls = QueuedCalls(connection, script, clock)
        self._queue = queue
        self._retry = retry
        self._keys = chunk_keys(queue, operation_id)
        self._token = token
        self._bound = decode_cursor(bound) if bound else None
        self._error_codes = error_codes(*counted_errors(action, "all"))
        self._depth = max(1, depth)
        self._clock = clock
        self._only_origin = only_origin
        self._last_reply = 0.0

    def step(self, size: int, reach: int = 0) -> Step | None:
        """`reach` is `size` here: the walk acts on every entry it examines."""
        if self._bound is None:  # the registry was empty when the operation started
            return ENDED
        try:
            sent, reply = self._next_reply(size)
        except LostConnection:
            # A dropped connection (as the client's own Retry does once): queued calls may or may
            # not have run, and each records its own progress, so fresh calls go on from there.
            sent, reply = self._next_reply(size)
        except NoScriptError:
            # Redis lost its scripts (a restart, a failover, SCRIPT FLUSH): no queued call ran, and
            # the calls of the next step load the script again.
            return Step(0.0, 0, 0, [], False)
        arrived = self._clock()
        seconds = arrived - max(sent, self._last_reply)
        self._last_reply = arrived
        if reply and isinstance(reply[0], bytes):  # refused: lease lost or canceled
            self.close()
            return None
        examined, ended = reply[0], bool(reply[1])
        if ended:
            self.close()
        return Step(seconds, examined, examined, list(reply[2:]), ended)

    def walked(self) -> tuple[str, str]:
        # Recorded by the call that found the end (operation_walk.lua); none when the registry
        # was empty at the start, and no call ran.
        return ("walked", "1") if self._bound is not None else ("", "")

    def close(self) -> None:
        """Read the replies of the calls still queued (each call records its own work in Redis,
        read or not) and give the connection back."""
        self._calls.close()

    def _next_reply(self, size: int) -> tuple[float, Any]:
        """Queue calls up to `depth`, then read the oldest one's reply: (when it was sent, reply)."""
        if not self._calls.queued:
            self._last_reply = 0.0  # a fresh connection: nothing ran before its first call
        while self._calls.queued < self._depth:
            self._calls.send(self._keys, self._args(size))
        return self._calls.read()

    def _args(self, size: int) -> list[Any]:
        assert self._bound is not None
        now = now_timestamp()
        fixed = act_args(self._retry, now, self._queue, [], self._only_origin)
        return [self._token, store.LEASE_MS, size, *self._bound, self._error_codes, ERRORS_KEPT, now, *fixed]
