"""One tick of the history: take or renew the lease, and if this process is the writer, count
what ended since the watermark and sample every queue. Four pipelined round trips in steady
state, whatever the number of queues: (1) the clock, the lease, the watermark and the queue
names; (2) and (3) the lengths, head jobs and new registry entries (sample.py); (4) one script
that commits everything (lua/commit.lua).

No job is counted twice. Jobs are counted by `ended_at` in the half-open window [watermark,
now - SETTLE_SECONDS), and the commit moves the watermark to the window's end in the same atomic
step as the counts, only if the watermark is still the one the tick started from and the lease
still this process's. A writer that lost its lease, or a second one racing it, writes nothing.

Gaps stay gaps. The first writer, or one that finds the watermark older than `catch_up`
(nobody wrote for longer than a handover takes), starts at the beginning of the current minute:
that minute is counted whole, the minutes before it keep no hash and read as null. A handover
within `catch_up` continues from the watermark, so the minutes in between are counted.

The clock is Redis's (TIME), shared by every gateway process and replica. `ended_at` is the
worker's clock: SETTLE_SECONDS leaves a worker time to add a job it just ended to its registry
(and absorbs that much clock skew) before the window closes over it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.services.history import scripts
from gateway.services.history.layout import (
    LEASE_KEY,
    WATERMARK_KEY,
    minute_key,
    minute_of,
)
from gateway.services.history.lease import Lease
from gateway.services.history.sample import Minute, read_sample
from gateway.services.redis import damaged, keys

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0


def _seconds(mark: bytes | None) -> float | None:
    """The time in a watermark, `<seconds> <nonce>`: the nonce makes every commit's value new,
    so a commit that moved nothing still fails a stale commit's check."""
    try:
        return float(mark.split()[0]) if mark else None
    except (ValueError, IndexError):
        return None  # not ours to trust: counted as a gap, and replaced by the next commit


class HistoryWriter:
    """Call `tick()` every `tick_period` seconds in every gateway process. `clock` replaces
    Redis's TIME (tests drive time by hand)."""

    def __init__(
        self,
        connection: Redis,
        retention: int,
        lease_seconds: float,
        interval: float,
        clock: Callable[[], float] | None = None,
    ):
        self.connection = connection
        self.retention = retention
        self.lease = Lease(connection, lease_seconds)
        self.tick_period = min(interval, lease_seconds / 3)
        self.catch_up = 2 * lease_seconds + 120
        self.clock = clock
        self._commit = connection.register_script(scripts.COMMIT)
        self.is_writer = False

    def tick(self) -> bool:
        """One tick; True when this process wrote the history."""
        pending = self.prepare()
        return pending is not None and self.commit(pending)

    def prepare(self) -> list[Any] | None:
        """Round trips 1 and 2: the commit's arguments, or None when this process is not the
        writer. Split from commit() so a test can interleave two writers' steps."""
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.time()
            self.lease.hold_command(pipe)
            pipe.get(WATERMARK_KEY)
            pipe.smembers(keys.QUEUES_SET)
            clock, held, mark, members = damaged.execute(pipe)
        self._note_role(held == 1)
        if not self.is_writer:
            return None
        now = self.clock() if self.clock else clock[0] + clock[1] / 1_000_000
        start, end = self._window(now, _seconds(mark))
        prefix = keys.QUEUE_PREFIX
        texts = (damaged.internal(member) for member in members or ())
        names = sorted(text[len(prefix) :] for text in texts if text.startswith(prefix))
        sample = read_sample(self.connection, names, now, start, end)
        minutes = self._covered(sample.minutes, names, start, end)
        args: list[Any] = [self.lease.token, mark or b"", f"{end!r} {secrets.token_hex(4)}", self.retention]
        args.append(len(minutes))
        for (minute, name), added in sorted(minutes.items()):
            args.extend(added.args(minute_key(minute, name), (minute + 1) * 60 + self.retention))
        for mirror, registry, ids in sample.seen:
            args.extend((mirror, registry, len(ids), *ids))
        return args

    def commit(self, args: list[Any]) -> bool:
        """Round trip 3: write it all, if the lease and the watermark are still the ones read."""
        outcome = self._commit(keys=[LEASE_KEY, WATERMARK_KEY], args=args)
        if outcome != 1:
            log.info("history: tick not written (%s)", "lease lost" if outcome == 0 else "watermark moved")
        return outcome == 1

    def _note_role(self, held: bool) -> None:
        if held != self.is_writer:
            log.info("history: this process %s the writer", "is now" if held else "is no longer")
        self.is_writer = held

    def _window(self, now: float, mark: float | None) -> tuple[float, float]:
        settled = now - SETTLE_SECONDS
        if mark is None or mark < now - self.catch_up:
            start = minute_of(settled) * 60.0  # a gap: count from this minute's start
            if mark is not None:
                start = max(start, mark)
        else:
            start = mark
        return start, max(start, settled)

    @staticmethod
    def _covered(
        minutes: dict[tuple[int, str], Minute], names: list[str], start: float, end: float
    ) -> dict[tuple[int, str], Minute]:
        """The minutes the window [start, end) touches are counted: they read 0, not null."""
        if end > start:
            for minute in range(minute_of(start), minute_of(end - 1e-6) + 1):
                for name in names:
                    added = minutes.setdefault((minute, name), Minute())
                    added.failed, added.finished = added.failed or 0, added.finished or 0
        return minutes

    def release(self) -> None:
        """Give up the lease (on shutdown) so another process takes over on its next tick."""
        if self.is_writer:
            self.lease.release()
            self.is_writer = False
