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
    # Set only by a single-job lookup (status, job(id)); lists leave them None.
    location: JobLocation | None = None
    dependency_ids: list[str] | None = None
    dependent_ids: list[str] | None = None
    # False when the job names no readable origin (no hash, an empty or undecodable field):
    # `origin` is then the queue it was found in, and its queue is unknown (job_access.py).
    origin_known: bool = True

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
    cursors: list[str] = field(default_factory=list[str])


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
class JobActionOutcome:
    """The answer to an action on one job: retry, delete, cancel or requeue."""

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


@dataclass(frozen=True)
class QueueInfo:
    """A queue with the counts of its registries, its latency and its listening workers."""

    stats: QueueStats
    # Seconds since the job at the head of the queue was enqueued; None when the queue is empty
    # or the head job's enqueued_at cannot be read.
    latency_seconds: float | None
    worker_count: int
    # False when RQ's queues set holds the name in bytes that are not UTF-8 (damaged data): the
    # name is shown escaped, and no call can address the queue by it.
    name_decodes: bool = True

    @property
    def name(self) -> str:
        return self.stats.queue_name


@dataclass(frozen=True)
class WorkerInfo:
    """One RQ worker as its hash in Redis describes it. Timestamps are ISO 8601 UTC with Z."""

    name: str
    state: str
    queues: list[str]
    current_job_id: str | None
    # None for a queue-limited key when the worker also listens to another queue: they count its
    # jobs too (reads/workers.py workers_seen_by).
    successful_job_count: int | None
    failed_job_count: int | None
    total_working_time: float | None
    last_heartbeat: str | None
    birth_date: str | None
    hostname: str | None
    pid: int | None
    # `rq suspend` is one flag for every worker of the Redis server (issue 15): while it is set,
    # no worker starts a new job, whatever its own state says until its next check.
    suspended: bool = False
    suspended_until: str | None = None


@dataclass(frozen=True)
class CleanupOutcome:
    """Registry entries RQ's cleanup removed from each registry of a queue."""

    queue_name: str
    removed: dict[str, int]

    @property
    def total_removed(self) -> int:
        return sum(self.removed.values())


@dataclass(frozen=True)
class EmptyOutcome:
    """The queued jobs emptying a queue deleted, or, in a dry run, the jobs queued now."""

    queue_name: str
    deleted_count: int
    dry_run: bool


@dataclass(frozen=True)
class FailureGroup:
    """Failed jobs sharing one cause: function, exception type and normalized last traceback
    line. `kind` is "failure", or "orphan"/"unreadable" for jobs that cannot say their cause."""

    group_id: str
    kind: str
    func_name: str | None
    exc_type: str | None
    message: str | None
    count: int
    first_failed_at: str | None
    last_failed_at: str | None
    sample_job_id: str


@dataclass(frozen=True)
class FailureGroups:
    groups: list[FailureGroup]
    total_failed: int


@dataclass(frozen=True)
class GroupOutcome(BulkOutcome):
    """A group retry or delete: the bulk answer, plus how many members the walk found. In a dry
    run `done_jobs` and `errors` are what a real run would give, and nothing is changed."""

    group_id: str = ""
    dry_run: bool = False
    matched_count: int = 0


@dataclass(frozen=True)
class JobLocation:
    """Where a job is: its origin queue, and the registry holding it ("queued" for the queue
    list), or None when it is in none of them (e.g. deleted from the queue, or expired)."""

    queue: str
    registry: str | None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search (services/reads/search.py): the matches in scan order, how many
    entries the request examined, whether it reached the end of its scope, and where to resume
    (None when complete). `cursors` resumes right after each job (GraphQL edges)."""

    jobs: list[JobInfo]
    scanned: int
    complete: bool
    next_cursor: str | None
    cursors: list[str] = field(default_factory=list[str])
