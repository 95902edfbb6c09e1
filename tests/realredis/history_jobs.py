"""Jobs with a known run time, for the history tests (the worker imports them from here)."""

from __future__ import annotations

import time


def run_for(seconds: float) -> float:
    time.sleep(seconds)  # the workload: a run of a known length, timed by the history
    return seconds


def fail_after(seconds: float) -> None:
    time.sleep(seconds)  # the workload, as above
    raise RuntimeError(f"failed after {seconds}s")
