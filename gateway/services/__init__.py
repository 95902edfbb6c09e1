"""The service layer: the only code that imports rq or builds a Redis key."""

from gateway.services.filters import FailedJobFilter
from gateway.services.models import (
    JOB_STATUSES,
    BulkOutcome,
    CleanupOutcome,
    FailureGroup,
    FailureGroups,
    GroupOutcome,
    JobActionOutcome,
    JobError,
    JobInfo,
    JobLocation,
    JobPage,
    QueueInfo,
    QueueStats,
    WorkerInfo,
)
from gateway.services.service import JobService
from gateway.services.validation import MAX_PAGE_SIZE

__all__ = [
    "JOB_STATUSES",
    "MAX_PAGE_SIZE",
    "BulkOutcome",
    "CleanupOutcome",
    "FailedJobFilter",
    "FailureGroup",
    "FailureGroups",
    "GroupOutcome",
    "JobActionOutcome",
    "JobError",
    "JobInfo",
    "JobLocation",
    "JobPage",
    "JobService",
    "QueueInfo",
    "QueueStats",
    "WorkerInfo",
]
