"""How one chunk of an operation's walk (walks.py) is acted on.

The runner drives Steps (steps.py): WalkSteps acts on a walk's chunks (one call to read, one to
act, ChunkAction); for every failed job (the selector `all`, the one that reaches a million)
steps_for gives RegistrySteps (registry_steps.py), where Redis walks the registry itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.domain.outcome import Outcome
from gateway.services.operations import store
from gateway.services.operations.model import ERRORS_KEPT, Selector
from gateway.services.operations.registry_steps import RegistrySteps
from gateway.services.operations.steps import (
    ENDED,
    Rewound,
    Step,
    Steps,
    act_args,
    chunk_keys,
    counted_errors,
    error_codes,
)
from gateway.services.operations.walks import Chunk, IdsWalk, RegistryWalk, SearchWalk, Walk, walk_for
from gateway.services.redis import scripts
from gateway.services.redis.registry import decode_cursor, now_timestamp


@dataclass(frozen=True)
class ChunkDone:
    seconds: float  # the call's round trip (steps.py says why not Redis's own clock)
    codes: list[Outcome]


class ChunkAction:
    """One chunk's action and its progress in one Lua call (operation_chunk.lua). run() answers
    the per-job codes and the call's round trip, or None when the runner must stop: its
    lease was taken over, or the operation no longer runs (canceled). `position` is the one the
    operation recorded when the walk started; each chunk is acted on only while the operation's
    recorded position is still where the last chunk left it, else run() raises Rewound."""

    def __init__(
        self,
        connection: Redis,
        queue: str,
        action: str,
        selector: Selector,
        operation_id: str,
        token: str,
        clock: Callable[[], float] = time.perf_counter,
        only_origin: str = "",
        position: str = "",
    ):
        self._clock = clock
        self._position = position
        self._only_origin = only_origin
        self._queue = queue
        self._retry = action == "retry"
        self._script = connection.register_script(
            scripts.OPERATION_REQUEUE if self._retry else scripts.OPERATION_DELETE
        )
        self._keys = chunk_keys(queue, operation_id)
        self._token = token
        self._error_codes = error_codes(*counted_errors(action, selector.kind))
        # Beyond the ERRORS_SHOWN an operation lists: a limited reader's view leaves out the ids
        # it may not see from the counts too (operations/seen.py), which needs each error's id.
        self._errors_kept = ERRORS_KEPT

    def run(self, chunk: Chunk) -> ChunkDone | None:
        now = now_timestamp()
        inner = act_args(self._retry, now, self._queue, chunk.members, self._only_origin)
        first_id = len(inner) - len(chunk.members) + 1  # Lua counts from 1
        head = [
            self._token,
            store.LEASE_MS,
            chunk.position,
            chunk.examined,
            self._error_codes,
            first_id,
            self._errors_kept,
            self._position,
        ]
        started = self._clock()
        reply = self._script(keys=self._keys, args=[*head, *inner])
        seconds = self._clock() - started
        if reply == [b"rewound"]:
            raise Rewound
        if reply and isinstance(reply[0], bytes):
            return None
        self._position = chunk.position
        return ChunkDone(seconds, [Outcome(code) for code in reply])

    @property
    def position(self) -> str:
        """Where this walk's last chunk left the operation's recorded position."""
        return self._position


class WalkSteps:
    """A walk the gateway reads (ids, filter, group, search), each chunk acted on by ChunkAction."""

    def __init__(self, walk: Walk, act: ChunkAction, position: str) -> None:
        self._size = self._reach = 1
        self._chunks = walk.chunks(position, lambda: self._size, lambda: self._reach)
        self._act = act

    def step(self, size: int, reach: int = 0) -> Step | None:
        # A selective walk reads up to `reach` entries, of which one call acts on up to `size`.
        self._size, self._reach = size, max(size, reach)
        chunk = next(self._chunks, None)
        if chunk is None:
            return ENDED
        done = self._act.run(chunk)
        if done is None:
            return None
        limited = [
            m for m, code in zip(chunk.members, done.codes, strict=True) if code == Outcome.RATE_LIMITED
        ]
        return Step(done.seconds, chunk.examined, len(chunk.members), limited, False)

    def close(self) -> None:
        """Each chunk's call is read before the next is sent: nothing is held between steps."""

    def walked(self) -> tuple[str, str]:
        return ("position", self._act.position)


def steps_for(
    connection: Redis,
    serializer: Any,
    state: dict[str, str],
    selector: Selector,
    operation_id: str,
    token: str,
    depth: int = 2,
) -> Steps:
    """The steps of a stored operation, from where its last recorded chunk ended; `depth` calls
    queued at a time for every failed job (RegistrySteps)."""
    queue, action, bound = state["queue"], state["action"], state["bound"]
    only_origin = state.get("only_origin", "")  # absent in operations of older gateways: any
    if selector.kind == "all":
        position = state.get("position", "")
        if position and " " not in position:
            # Stored by a gateway before operation_walk.lua: a cursor; the walk reads its own form.
            score, member = decode_cursor(position)
            connection.hset(store.operation_key(operation_id), "position", f"{score} {member.hex()}")
        return RegistrySteps(connection, queue, action, bound, operation_id, token, depth, only_origin)
    walk = walk_for(connection, serializer, queue, selector, bound)
    position = state["position"]
    act = ChunkAction(
        connection, queue, action, selector, operation_id, token, only_origin=only_origin, position=position
    )
    return WalkSteps(walk, act, position)


__all__ = [
    "Chunk",
    "ChunkAction",
    "IdsWalk",
    "RegistryWalk",
    "SearchWalk",
    "WalkSteps",
    "steps_for",
    "walk_for",
]
