"""Queues: their counts, latency and workers, and the answers of a cleanup and of emptying."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.services import CleanupOutcome, EmptyOutcome, QueueInfo, QueueStats


class Stats(BaseModel):
    queue_name: str
    queued_count: int
    failed_count: int
    started_count: int
    finished_count: int
    deferred_count: int
    scheduled_count: int
    canceled_count: int

    @classmethod
    def of(cls, stats: QueueStats) -> Stats:
        return cls(**stats.__dict__)


class Queue(Stats):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "queue_name": "default",
                    "queued_count": 12,
                    "failed_count": 2,
                    "started_count": 1,
                    "finished_count": 340,
                    "deferred_count": 0,
                    "scheduled_count": 3,
                    "canceled_count": 0,
                    "latency_seconds": 4.215,
                    "worker_count": 2,
                }
            ]
        }
    )

    latency_seconds: float | None = Field(
        description="Seconds since the job at the head of the queue was enqueued; null when empty."
    )
    worker_count: int = Field(description="Live workers listening to this queue.")

    @classmethod
    def of(cls, queue: QueueInfo) -> Queue:
        return cls(
            **queue.stats.__dict__, latency_seconds=queue.latency_seconds, worker_count=queue.worker_count
        )


class RegistryCounts(BaseModel):
    started: int
    finished: int
    failed: int
    deferred: int
    scheduled: int
    canceled: int


class Cleanup(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "queue_name": "default",
                    "total_removed": 5,
                    "removed": {
                        "started": 1,
                        "finished": 3,
                        "failed": 1,
                        "deferred": 0,
                        "scheduled": 0,
                        "canceled": 0,
                    },
                }
            ]
        }
    )

    queue_name: str
    total_removed: int
    removed: RegistryCounts = Field(description="Expired entries removed, per registry.")

    @classmethod
    def of(cls, outcome: CleanupOutcome) -> Cleanup:
        return cls(
            queue_name=outcome.queue_name,
            total_removed=outcome.total_removed,
            removed=RegistryCounts(**outcome.removed),
        )


class EmptyQueue(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"queue_name": "default", "deleted_count": 8, "dry_run": False}]}
    )

    queue_name: str
    deleted_count: int = Field(description="Jobs deleted; in a dry run, the jobs queued now.")
    dry_run: bool

    @classmethod
    def of(cls, outcome: EmptyOutcome) -> EmptyQueue:
        return cls(
            queue_name=outcome.queue_name, deleted_count=outcome.deleted_count, dry_run=outcome.dry_run
        )
