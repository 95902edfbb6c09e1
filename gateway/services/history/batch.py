"""What one commit of a tick writes (lua/commit.lua), kept small: minute hashes to add to, and
ids to add to or forget from the mirrors. The writer (writer.py) puts the counts of a chunk of
newly looked-at jobs in the same batch as their ids, so both land or neither does, and starts a
new batch before one would hold more than BATCH_IDS ids or BATCH_MINUTES minute hashes: no commit
costs more than a few milliseconds inside Redis (about 1 ms per 500 ids; measured in
bench/history_tick.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from gateway.services.history.layout import minute_key
from gateway.services.history.timings import bucket_field

BATCH_IDS = 500
BATCH_MINUTES = 200


@dataclass
class Minute:
    """What one tick adds to one queue's minute hash."""

    failed: int | None = None
    finished: int | None = None
    queued: int | None = None
    latency: float | None = None
    run_max: float | None = None
    sketch: Counter[str] = field(default_factory=Counter)

    def count(self, registry: str) -> None:
        if registry == "failed":
            self.failed = (self.failed or 0) + 1
        else:
            self.finished = (self.finished or 0) + 1

    def time(self, seconds: float) -> None:
        self.sketch[bucket_field(seconds)] += 1
        seconds = round(seconds, 6)
        self.run_max = seconds if self.run_max is None else max(self.run_max, seconds)

    def merge(self, other: Minute) -> None:
        """Add another part of the same minute: counts add up, samples keep the largest."""
        for name in ("failed", "finished"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, (mine or 0) + theirs)
        for name in ("queued", "latency", "run_max"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, theirs if mine is None else max(mine, theirs))
        self.sketch.update(other.sketch)

    def args(self, key: bytes, expire_at: int) -> list[Any]:
        values = (self.failed, self.finished, self.queued, self.latency, self.run_max)
        flat: list[Any] = [key, expire_at, *("" if value is None else value for value in values)]
        flat.append(len(self.sketch))
        for name, number in sorted(self.sketch.items()):
            flat.extend((name, number))
        return flat


@dataclass
class Batch:
    """Minute hashes to add to, and per (kind, mirror, registry) the ids to add or forget."""

    minutes: dict[tuple[int, str], Minute] = field(default_factory=lambda: defaultdict(Minute))
    ids: dict[tuple[str, bytes, bytes], list[bytes]] = field(default_factory=lambda: defaultdict(list))

    def size(self) -> int:
        """Ids, and one per group (each costs an EXPIRE)."""
        return sum(len(ids) + 1 for ids in self.ids.values())

    def add(self, mirror: bytes, registry: bytes, job_id: bytes) -> None:
        self.ids["add", mirror, registry].append(job_id)

    def forget(self, mirror: bytes, registry: bytes, ids: list[bytes]) -> None:
        self.ids["forget", mirror, registry].extend(ids)

    def renew(self, mirror: bytes, registry: bytes) -> None:
        """Renew a mirror's TTL (an 'add' of no ids), so an idle registry's mirror lives on."""
        self.ids["add", mirror, registry].extend(())

    def fits(self, other: Batch, most_ids: int = BATCH_IDS) -> bool:
        minutes = len(self.minutes.keys() | other.minutes.keys())
        return self.size() + other.size() <= most_ids and minutes <= BATCH_MINUTES

    def pieces(self, most_ids: int = BATCH_IDS) -> list[Batch]:
        """This batch cut into batches that each fit: for parts whose minutes and ids need not
        land together (the queues' samples, the covered minutes, the mirrors' renewals)."""
        pieces = [Batch()]
        for key, minute in self.minutes.items():
            if len(pieces[-1].minutes) >= BATCH_MINUTES:
                pieces.append(Batch())
            pieces[-1].minutes[key] = minute
        for group, ids in self.ids.items():
            for begin in range(0, max(1, len(ids)), most_ids):
                if pieces[-1].size() + min(len(ids) - begin, most_ids) + 1 > most_ids:
                    pieces.append(Batch())
                pieces[-1].ids[group].extend(ids[begin : begin + most_ids])
        return pieces

    def merge(self, other: Batch) -> None:
        for key, minute in other.minutes.items():
            self.minutes[key].merge(minute)
        for group, ids in other.ids.items():
            self.ids[group].extend(ids)

    def args(self, head: list[Any], retention: int) -> list[Any]:
        """The script's arguments after `head` (token, watermarks, TTL, lease)."""
        flat: list[Any] = [*head, len(self.minutes)]
        for (minute, name), added in sorted(self.minutes.items()):
            flat.extend(added.args(minute_key(minute, name), (minute + 1) * 60 + retention))
        for (kind, mirror, registry), ids in self.ids.items():
            flat.extend((kind, mirror, registry, len(ids), *ids))
        return flat
