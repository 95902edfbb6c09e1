"""Timed repetitions and their checks: every timed run is checked afterwards (outside the timing),
so a contestant that got faster by doing less work fails the run instead of winning it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    times: list[float] = field(default_factory=list)
    note: str = ""
    extrapolated: bool = False

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def scaled(self, factor: float, note: str) -> Sample:
        return Sample([t * factor for t in self.times], note=note, extrapolated=True)


def timed(reps: int, run: Callable[[], Any], check: Callable[[Any], None], setup=None) -> Sample:
    """reps runs of run(), each after setup() (not timed) and checked with check() (not timed)."""
    sample = Sample()
    for _ in range(reps):
        if setup:
            setup()
        started = time.perf_counter()
        out = run()
        sample.times.append(time.perf_counter() - started)
        check(out)
    return sample


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"check failed: {message}")


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]
