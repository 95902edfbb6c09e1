"""What the /metrics endpoint shows of RQ: every queue's counts and head-job age, every worker.

Frozen results like domain/models.py's, kept in their own module because only the metrics read
returns them."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.services.domain.models import QueueStats, WorkerInfo


@dataclass(frozen=True)
class QueueGauges:
    """One queue's counts (as GET /stats counts them, plus the ready registry) and the age of its
    head job."""

    stats: QueueStats
    # RQ 3's ready registry (status ready_to_enqueue), which GET /stats does not count.
    ready_count: int
    # Seconds since the head job was enqueued; 0.0 for an empty queue (nothing waits), None when
    # the head job's enqueued_at cannot be read.
    latency_seconds: float | None


@dataclass(frozen=True)
class RqSnapshot:
    """Every queue in RQ's queues set and every live worker, read at one moment (for a key limited
    to queue patterns, those it may see)."""

    queues: list[QueueGauges]
    workers: list[WorkerInfo]
