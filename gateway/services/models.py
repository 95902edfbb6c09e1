"""Plain, frozen results of the service layer. Transports map these to their own types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Every status RQ 2 and 3 write. A status outside this list (a future RQ's) is shown as the
# registry's own state, or "created".
JOB_STATUSES = (
    "created",
    "queued",
    "finished",
    "failed",
    "started",
    "deferred",
    "scheduled",
    "stopped",
    "canceled",
    "rate_limited",
    "ready_to_enqueue",
)


@dataclass(frozen=True)
class JobInfo:
    """One job as the gateway shows it. Fields that cannot be read or decoded are None."""

    job_id: str
    status: str
    origin: str
    func_name: str | None = None
    args: Any = None
    kwargs: Any = None
    description: str | None = None
    created_at: str | None = None
    enqueued_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    result: Any = None
    exc_info: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.status == "finished"

    @property
    def is_failed(self) -> bool:
        return self.status == "failed"

    @property
    def is_started(self) -> bool:
        return self.status == "started"

    @property
    def is_queued(self) -> bool:
        return self.status == "queued"


@dataclass(frozen=True)
class JobPage:
    """A slice of a registry in registry order, with the cursor of its last entry."""

    jobs: list[JobInfo]
    total: int
    end_cursor: str | None
    has_next_page: bool
    cursors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueueStats:
    queue_name: str
    queued_count: int
    failed_count: int
    started_count: int
    finished_count: int
    deferred_count: int
    scheduled_count: int
    canceled_count: int


@dataclass(frozen=True)
class RetryOutcome:
    """The answer to a single-job retry or delete."""

    job_id: str
    message: str
    success: bool = True


@dataclass(frozen=True)
class JobError:
    job_id: str
    error: str


@dataclass(frozen=True)
class BulkOutcome:
    """The answer to retry-all or clear. Ids another caller took first are in neither list."""

    total_failed: int
    done_jobs: list[str]
    errors: list[JobError]

    @property
    def done_count(self) -> int:
        return len(self.done_jobs)

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def success(self) -> bool:
        return not self.errors
