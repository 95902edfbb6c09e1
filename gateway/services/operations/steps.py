"""What the operation runner drives: a Step is one chunk done, Steps gives the next one. Shared
by the walks the gateway reads (chunks.py: WalkSteps, ChunkAction) and the walk Redis does itself
(registry_steps.py: RegistrySteps), with the KEYS both chunk scripts take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.services.domain.outcome import RETRY_ERRORS, Outcome
from gateway.services.operations import store
from gateway.services.operations.store import Rewound as Rewound  # the walks raise it too
from gateway.services.redis import keys
from gateway.services.writes.failed_actions import delete_args, requeue_args


def chunk_keys(queue: str, operation_id: str) -> list[str | bytes]:
    """KEYS of both chunk scripts (operation_chunk.lua, operation_walk.lua): the failed registry,
    the operation's hash, its lease, its errors list, the history's seen set of the registry and
    the operation's rate-limited ids."""
    return [
        keys.registry_key("failed", queue),
        store.operation_key(operation_id),
        store.lease_key(operation_id),
        store.errors_key(operation_id),
        keys.history_seen_key("failed", queue),
        store.limited_key(operation_id),
    ]


def counted_errors(action: str, selector_kind: str) -> list[Outcome]:
    """The per-job codes an operation counts as errors: a retry's refusals (an orphan, an
    unreadable job, a damaged queue key), and for named ids one that is not (or no longer) in the
    failed registry, as retry-selected answers it. The chunk scripts and the dry run share it."""
    errors = [Outcome(code) for code in RETRY_ERRORS] if action == "retry" else []
    if selector_kind == "job_ids":
        errors.append(Outcome.NOT_IN_REGISTRY)
    return errors


def act_args(retry: bool, now: int, queue: str, ids: Sequence[str | bytes], only_origin: str) -> list[Any]:
    """The ARGV of the action both chunk scripts wrap (requeue.lua or delete.lua), for `ids`."""
    if retry:
        return requeue_args(now, queue, ids, only_origin)
    return delete_args(now, ids, only_origin)


def error_codes(*codes: int) -> str:
    return "," + ",".join(str(int(code)) for code in codes) + ","


@dataclass(frozen=True)
class Step:
    """One chunk done: the time of its Lua call, the entries it covered, the jobs it acted
    on or classified, the rate-limited ones left for RQ's own requeue, and whether the walk ended.

    The time is the gateway's clock around the calls, not Redis's `TIME` inside them: from Redis
    7.2 on, time stands still within a script (redis/redis#10300), so a script sees its own call
    take 0 µs, and chunks sized from that would double to the largest within a few steps. A round
    trip errs the gentle way: it includes the network and any wait behind other clients, so
    chunks come out a little smaller, never larger."""

    seconds: float
    examined: int
    jobs: int
    rate_limited: list[str | bytes]
    ended: bool


ENDED = Step(0.0, 0, 0, [], True)


class Steps(Protocol):
    def step(self, size: int, reach: int = 0) -> Step | None:
        """The next chunk, done: at most `size` jobs acted on in one call, among at most `reach`
        entries examined (`size` when less; a walk that acts on every entry it examines takes
        `size` of them); None when the runner must stop (its lease was taken over, or the
        operation no longer runs)."""
        ...

    def close(self) -> None:
        """Let go of what the steps hold in Redis's connection (calls still queued)."""
        ...

    def walked(self) -> tuple[str, str]:
        """Once the walk ended: the operation's field and the value its last chunk recorded there
        (store.finish ends the operation only where Redis holds them); ('', '') checks nothing."""
        ...
