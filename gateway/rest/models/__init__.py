"""Response models matching ../shared/api/job-management-api.md, one module per concept. Keys may
be added, never renamed. The routers use them as `models.X`, whichever module defines X."""

from gateway.rest.models.audit import AuditEntry, AuditLog
from gateway.rest.models.bulk import Clear, JobError, RetryAll, bulk_fields
from gateway.rest.models.control import EnqueueNow, Replay, Suspension, WorkerCommand
from gateway.rest.models.errors import ErrorDetail
from gateway.rest.models.groups import FailureGroup, FailureGroups, GroupDelete, GroupRetry
from gateway.rest.models.jobs import Job, JobAction, JobDetail, JobList, JobLocation, SelectedJobs, job_dict
from gateway.rest.models.queues import Cleanup, EmptyQueue, Queue, RegistryCounts, Stats
from gateway.rest.models.rq3 import JobGroup, JobGroups, RateLimits
from gateway.rest.models.schedules import Cron, RqScheduler
from gateway.rest.models.workers import Worker

__all__ = [
    "AuditEntry",
    "AuditLog",
    "Cleanup",
    "Clear",
    "Cron",
    "EmptyQueue",
    "EnqueueNow",
    "ErrorDetail",
    "FailureGroup",
    "FailureGroups",
    "GroupDelete",
    "GroupRetry",
    "Job",
    "JobAction",
    "JobDetail",
    "JobError",
    "JobGroup",
    "JobGroups",
    "JobList",
    "JobLocation",
    "Queue",
    "RateLimits",
    "RegistryCounts",
    "Replay",
    "RetryAll",
    "RqScheduler",
    "SelectedJobs",
    "Stats",
    "Suspension",
    "Worker",
    "WorkerCommand",
    "bulk_fields",
    "job_dict",
]
