"""Find, in bounded slices, the registry entries the writer has not looked at and the looked-at
ids that have left their registry.

Each queue's failed and finished registry has a mirror (`rq-gateway:history:seen:...`,
layout.py): the ids the writer has looked at. A tick walks each registry against its mirror (the
new entries) and each mirror against its registry (the ids gone, to forget, so a job retried and
failed again is new again). A walk goes one slice per call of lua/unseen.lua: a range read of the
slice and a ZMSCORE of its ids in the other set, so no call costs more than its slice, however
large the sets (about 0.7 µs per entry inside Redis, under 1 ms per round trip of BUDGET
entries). The slices of one round trip hold at most `budget` entries together: pipelined
scripts run back to back in Redis, so the budget, not the slice, bounds how long another client
waits.

A registry is walked by rank (its scores are RQ's expiry times, shared by many entries), and
ranks shift when RQ adds or removes entries during a walk: a walk may look at an entry twice
(harmless: it is seen by then, or looked at again) or skip one, which a later tick finds and
still counts in the minute it ended (writer.py counts late finds). A mirror (every score 0) is
walked by member, after the last one walked, so the writer's own adds and forgets never make it
skip one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script

from gateway.services.history.layout import mirror_key
from gateway.services.redis import damaged, keys

REGISTRIES = ("failed", "finished")
BUDGET = 1000  # entries walked per round trip: under 1 ms of Redis time (module docstring)
_LEAST_SLICE = 10  # many queues: a round trip holds a slice of up to 100 walks


@dataclass
class Walk:
    """One walk: `walked` against `against`, from rank `cursor`."""

    queue: str
    registry: str  # "failed" or "finished"
    walked: bytes
    against: bytes
    gone: bool  # walking the mirror: the ids found are ids to forget
    cursor: int | bytes = 0  # a registry's next rank; the last mirror member walked
    done: bool = False

    @property
    def mirror(self) -> bytes:
        return self.walked if self.gone else self.against

    @property
    def registry_key(self) -> bytes:
        return self.against if self.gone else self.walked


def walks_for(names: list[str]) -> list[Walk]:
    """Per queue and registry, the mirror against the registry and the registry against its
    mirror (mirror walks first, so they take the first slices of a round trip)."""
    pairs = [
        (name, registry, damaged.key_bytes(keys.registry_key(registry, name)), mirror_key(registry, name))
        for name in names
        for registry in REGISTRIES
    ]
    gone = [
        Walk(name, registry, mirror, source, gone=True, cursor=b"")
        for name, registry, source, mirror in pairs
    ]
    new = [Walk(name, registry, source, mirror, gone=False) for name, registry, source, mirror in pairs]
    return gone + new


def walk_round(
    connection: Redis, script: Script, walks: list[Walk], budget: int, before: list[Any] | None = None
) -> tuple[list[Any], list[tuple[Walk, list[bytes]]]]:
    """One round trip: `before` (pipeline methods with their arguments, run first) and the next
    slice of as many unfinished walks as the budget holds. Returns the replies to `before`, and
    per walk the ids found. Moves each walk's cursor; a walk whose slice came back short is done."""
    active = [walk for walk in walks if not walk.done]
    size = max(min(_LEAST_SLICE, budget), budget // max(1, len(active)))
    chosen = active[: max(1, budget // size)]
    with connection.pipeline(transaction=False) as pipe:
        for method, *arguments in before or ():
            getattr(pipe, method)(*arguments)
        for walk in chosen:
            _slice(script, pipe, walk, size)
        replies = damaged.execute(pipe)
    count = len(before or ())
    found = []
    for walk, reply in zip(chosen, replies[count:], strict=True):
        walked, last, *ids = reply or [0, b""]
        walk.done = walked < size
        if walk.gone:
            walk.cursor = last
        else:
            assert isinstance(walk.cursor, int)
            walk.cursor += walked
        found.append((walk, ids))
    return replies[:count], found


def _slice(script: Script, pipe: Pipeline, walk: Walk, size: int) -> None:
    mode = "lex" if walk.gone else "rank"
    script(keys=[walk.walked, walk.against], args=[mode, walk.cursor, size], client=pipe)
