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


@strawberry.type(description="What emptying a queue deleted; in a dry run, what it would delete now.")
class EmptyQueueResult:
    queue_name: str
    deleted_count: int = strawberry.field(description="Jobs deleted; in a dry run, the jobs queued now.")
    dry_run: bool

    @classmethod
    def of(cls, outcome: services.EmptyOutcome) -> EmptyQueueResult:
        return cls(
            queue_name=outcome.queue_name, deleted_count=outcome.deleted_count, dry_run=outcome.dry_run
        )
