"""The history as the service returns it: frozen, transport-free."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HistoryBucket:
    """`step` minutes of one queue from `start` (ISO 8601 UTC). A field is None where nothing in
    the bucket was sampled: counts are summed, length and age are maxima, run times are merged
    from the minutes' histograms (services/history/timings.py)."""

    start: str
    failed: int | None
    finished: int | None
    queued: int | None
    latency_seconds: float | None
    run_seconds_p50: float | None
    run_seconds_p95: float | None
    run_seconds_max: float | None


@dataclass(frozen=True)
class QueueHistory:
    queue: str
    step: int
    buckets: tuple[HistoryBucket, ...]
