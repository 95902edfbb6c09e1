"""The watermark: how far the history has been counted, and the window of time one tick counts
from it (`window_of`); the minutes a tick covers (`covered`); and the chain of watermarks one
tick's commits write (`Chain`), each naming the one its predecessor wrote, so no other writer's
commit can enter it (writer.py drives them, lua/commit.lua checks them).

Jobs count in the minute of their `ended_at`. The watermark is the time up to which the
registries have been walked; a tick counts the new jobs that ended before now - SETTLE_SECONDS
and leaves later ones for the next tick. A job a walk skipped (ranks shift while RQ adds and
removes entries) is found by a later tick and still counted in its minute, if it ended after the
origin: the start of the writers' current unbroken run, kept beside the watermark (and at most
`catch_up` seconds before it).

Gaps stay gaps. The first writer, or one that finds the watermark older than `catch_up`
(nobody wrote for longer than a handover takes), starts at the beginning of the current minute,
which is also the new origin: that minute is counted whole, the minutes before it keep no hash
and read as null. A handover within `catch_up` continues from the watermark.

The clock is Redis's (TIME), shared by every gateway process and replica. `ended_at` is the
worker's clock: SETTLE_SECONDS leaves a worker time to add a job it just ended to its registry
(and absorbs that much clock skew) before the tick stops waiting for it.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from gateway.services.history.batch import Batch
from gateway.services.history.layout import minute_of
from gateway.services.history.lease import Lease

SETTLE_SECONDS = 2.0


def _field(mark: bytes | None, index: int) -> float | None:
    """A number in a watermark, `<seconds> <nonce> <origin>`: the nonce makes every commit's
    value new, so a commit that moved nothing still fails a stale commit's check."""
    try:
        return float(mark.split()[index]) if mark else None
    except (ValueError, IndexError):
        return None  # not ours to trust: counted as a gap, and replaced by the next commit


@dataclass
class Window:
    """What one tick counts: new jobs that ended in [count_from, end); minutes [start, end) are
    covered (they read 0, not null)."""

    now: float
    start: float
    end: float
    origin: float

    def count_from(self, catch_up: float) -> float:
        return max(self.origin, self.start - catch_up)


def window_of(now: float, mark: bytes | None, catch_up: float) -> Window:
    """The window of a tick at `now` after the watermark `mark`: from the watermark, or, after a
    gap longer than `catch_up` (or none), from the start of this minute, the new origin."""
    settled = now - SETTLE_SECONDS
    seconds, origin = _field(mark, 0), _field(mark, 2)
    if seconds is None or seconds < now - catch_up:
        start = minute_of(settled) * 60.0  # a gap: count from this minute's start
        if seconds is not None:
            start = max(start, seconds)
        origin = start
    else:
        start = seconds
    return Window(now, start, max(start, settled), start if origin is None else origin)


def covered(names: list[str], window: Window) -> Batch:
    """The minutes the window [start, end) touches are counted: they read 0, not null."""
    part = Batch()
    if window.end > window.start:
        for minute in range(minute_of(window.start), minute_of(window.end - 1e-6) + 1):
            for name in names:
                added = part.minutes[minute, name]
                added.failed, added.finished = 0, 0
    return part


class Chain:
    """The watermarks of one tick's commits: each names the one its predecessor wrote."""

    def __init__(self, mark: bytes, window: Window, lease: Lease, retention: int, batch_ids: int):
        self.expected: bytes | str = mark
        self.window = window
        self.lease = lease
        self.retention = retention
        self.batch_ids = batch_ids

    def args(self, batch: Batch, final: bool) -> list[Any]:
        """The commit of `batch`; the final one moves the watermark to the window's end."""
        seconds = self.window.end if final else self.window.start
        new = f"{seconds!r} {secrets.token_hex(4)} {self.window.origin!r}"
        head = [self.lease.token, self.expected, new, self.retention, self.lease.milliseconds]
        self.expected = new
        return batch.args(head, self.retention)

    def add(self, pending: Batch, part: Batch) -> Generator[list[Any], None, Batch]:
        """Merge `part` into `pending`, committing `pending` first when both would not fit."""
        if pending.size() and not pending.fits(part, self.batch_ids):
            yield self.args(pending, final=False)
            pending = Batch()
        pending.merge(part)
        return pending
