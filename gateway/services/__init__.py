"""The service layer: the only code that imports rq or builds a Redis key."""

from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import (
    JOB_STATUSES,
    BulkOutcome,
    CleanupOutcome,
    FailureGroup,
    FailureGroups,
    GroupOutcome,
    JobError,
    JobInfo,
    JobLocation,
    JobPage,
    QueueInfo,
    QueueStats,
    RetryOutcome,
    WorkerInfo,
)
from gateway.services.service import MAX_PAGE_SIZE, JobService

__all__ = [
    "JOB_STATUSES",
    "MAX_PAGE_SIZE",
    "BulkOutcome",
    "CleanupOutcome",
    "FailedJobFilter",
    "FailureGroup",
    "FailureGroups",
    "GroupOutcome",
    "JobError",
    "JobInfo",
    "JobLocation",
    "JobPage",
    "JobService",
    "QueueInfo",
    "QueueStats",
    "RetryOutcome",
    "WorkerInfo",
]
