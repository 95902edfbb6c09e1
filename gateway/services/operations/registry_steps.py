"""Every failed job of a queue, walked by Redis itself: one Lua call (operation_walk.lua) reads
the next live registry entries after the operation's stored position, acts on them and records
the progress, so no job id passes through the gateway. The operation over `{"all": true}`, the
one that reaches a million jobs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.services.operations import store
from gateway.services.operations.model import ERRORS_SHOWN
from gateway.services.operations.steps import ENDED, Step, act_args, chunk_keys, counted_errors, error_codes
from gateway.services.redis import scripts
from gateway.services.redis.registry import decode_cursor, now_timestamp

log = logging.getLogger(__name__)


class RegistrySteps:
    """Every failed job up to `bound` (the registry's last entry when the operation started), read,
    acted on and recorded by one Lua call per chunk (operation_walk.lua), which keeps the position.

    A step sends `depth` calls in one round trip: each call reads its position from the operation,
    so the second goes on where the first stopped (or finds the walk ended, or refuses as the
    first did), and Redis does not sit idle while the gateway reads a reply and sends the next
    call. Each call stays one bounded chunk, but Redis runs the calls of one round trip back to
    back: another client's command may wait for all of them (twice pacing.TARGET_SECONDS)."""

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
        self._connection = connection
        self._script = connection.register_script(
            scripts.OPERATION_WALK_REQUEUE if retry else scripts.OPERATION_WALK_DELETE
        )
        self._queue = queue
        self._retry = retry
        self._keys = chunk_keys(queue, operation_id)
        self._token = token
        self._bound = decode_cursor(bound) if bound else None
        self._error_codes = error_codes(*counted_errors(action, "all"))
        self._depth = depth
        self._clock = clock
        self._only_origin = only_origin

    def step(self, size: int) -> Step | None:
        if self._bound is None:  # the registry was empty when the operation started
            return ENDED
        now = now_timestamp()
        fixed = act_args(self._retry, now, self._queue, [], self._only_origin)
        head = [self._token, store.LEASE_MS, size, *self._bound, self._error_codes, ERRORS_SHOWN, now]
        with self._connection.pipeline(transaction=False) as pipe:
            for _ in range(self._depth):
                self._script(keys=self._keys, args=[*head, *fixed], client=pipe)
            # An error reply of a later call must not hide what the earlier calls did (their
            # rate-limited jobs still go to RQ's requeue): errors come back in the list.
            started = self._clock()
            replies = pipe.execute(raise_on_error=False)
            seconds = self._clock() - started
        if isinstance(replies[0], Exception):
            raise replies[0]
        done: list[list[Any]] = []
        for reply in replies:
            if isinstance(reply, Exception):
                log.warning("Operation chunk failed after an earlier one: %s", type(reply).__name__)
                break
            if reply and isinstance(reply[0], bytes):  # refused: lease lost or canceled
                break
            done.append(reply)
        if not done:
            return None
        examined = 0
        ended, limited = False, []
        for reply in done:
            examined, ended = examined + reply[0], ended or bool(reply[1])
            limited.extend(reply[2:])
        return Step(seconds, examined, examined, limited, ended, stopped=len(done) < len(replies))
