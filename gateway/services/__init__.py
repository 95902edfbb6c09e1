"""The service layer: the only code that imports rq or builds a Redis key."""

from gateway.services.models import (
    JOB_STATUSES,
    BulkOutcome,
    JobError,
    JobInfo,
    JobPage,
    QueueStats,
    RetryOutcome,
)
from gateway.services.service import MAX_PAGE_SIZE, JobService

__all__ = [
    "JOB_STATUSES",
    "MAX_PAGE_SIZE",
    "BulkOutcome",
    "JobError",
    "JobInfo",
    "JobPage",
    "JobService",
    "QueueStats",
    "RetryOutcome",
]
