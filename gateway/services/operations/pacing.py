"""How fast an operation goes: chunks sized so one Lua call stays a few milliseconds inside
Redis (other clients and the workers wait while it runs), and an optional jobs/s cap."""

from __future__ import annotations

import time

# One chunk's Lua call may keep Redis busy this long, timed on the gateway's clock (steps.Step).
# A PING from another client waits at most for the call running and the one queued behind it
# (registry_steps.py): well under the 20 ms bound, with room for a slow chunk. 2 ms, not 3:
# a call preempted on this 2-core machine runs 3-4x its time, and at 3 ms the longest PING during
# a delete of 1M reached 14-20 ms against 12.4-12.8 ms at 2 ms, at the same jobs/s (session 12).
TARGET_SECONDS = 0.002
FIRST_CHUNK = 100
LEAST_CHUNK = 10
MOST_CHUNK = 2000


class ChunkSizer:
    """The next chunk's size from the last ones' time per job: grows while calls are quick,
    shrinks at once when one is slow (jobs with big hashes, a loaded Redis)."""

    def __init__(
        self,
        target_seconds: float = TARGET_SECONDS,
        first: int = FIRST_CHUNK,
        least: int = LEAST_CHUNK,
        most: int = MOST_CHUNK,
    ) -> None:
        self.target = target_seconds
        self.size = first
        self.least = least
        self.most = most

    def observe(self, jobs: int, seconds: float) -> None:
        if jobs <= 0:
            return
        ideal = self.target * jobs / max(seconds, 1e-6)
        # Shrink at once (a slow call hurts everyone now), grow by at most double per chunk.
        wanted = min(ideal, 2 * self.size) if ideal > self.size else ideal
        self.size = round(max(self.least, min(self.most, wanted)))


class Pace:
    """A jobs/s cap (`--bulk-max-rate`; 0 = none): how long to wait so the jobs done since the
    start never run ahead of the rate. The chunk is capped too, so the pace is smooth."""

    def __init__(self, max_rate: float, clock=time.monotonic) -> None:
        self.max_rate = max_rate
        self._clock = clock
        self._start = clock()
        self._done = 0

    def cap(self, size: int) -> int:
        """A chunk at most a tenth of a second's worth of jobs under the cap."""
        return size if self.max_rate <= 0 else max(1, min(size, int(self.max_rate / 10)))

    def wait_after(self, jobs: int) -> float:
        """Seconds to wait after `jobs` more jobs; 0 without a cap or when behind the rate."""
        self._done += jobs
        if self.max_rate <= 0:
            return 0.0
        return max(0.0, self._done / self.max_rate - (self._clock() - self._start))
