"""A queue's counts, and the answer of a cleanup."""

from __future__ import annotations

import strawberry

from gateway import services


@strawberry.type
class QueueStats:
    queue_name: str
    queued_count: int
    failed_count: int
    started_count: int
    finished_count: int
    deferred_count: int
    scheduled_count: int
    canceled_count: int

    @classmethod
    def of(cls, stats: services.QueueStats) -> QueueStats:
        return cls(**stats.__dict__)


@strawberry.type
class RegistryCounts:
    started: int
    finished: int
    failed: int
    deferred: int
    scheduled: int
    canceled: int


@strawberry.type
class CleanupResult:
    queue_name: str
    total_removed: int
    removed: RegistryCounts

    @classmethod
    def of(cls, outcome: services.CleanupOutcome) -> CleanupResult:
        return cls(
            queue_name=outcome.queue_name,
            total_removed=outcome.total_removed,
            removed=RegistryCounts(**outcome.removed),
        )
