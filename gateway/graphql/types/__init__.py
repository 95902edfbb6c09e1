"""Strawberry types, one module per concept. Field names are the camelCase forms of the REST keys;
values are identical."""

from gateway.graphql.types.bulk import ClearResult, JobError, RetryAllResult, bulk_fields
from gateway.graphql.types.groups import (
    DeleteFailureGroupResult,
    FailureGroup,
    FailureGroups,
    RetryFailureGroupResult,
)
from gateway.graphql.types.jobs import (
    FailedJobFilterInput,
    Job,
    JobActionResult,
    JobConnection,
    JobEdge,
    JobLocation,
    JobStatus,
    PageInfo,
)
from gateway.graphql.types.queues import CleanupResult, EmptyQueueResult, QueueStats, RegistryCounts
from gateway.graphql.types.workers import Worker

__all__ = [
    "CleanupResult",
    "ClearResult",
    "DeleteFailureGroupResult",
    "EmptyQueueResult",
    "FailedJobFilterInput",
    "FailureGroup",
    "FailureGroups",
    "Job",
    "JobActionResult",
    "JobConnection",
    "JobEdge",
    "JobError",
    "JobLocation",
    "JobStatus",
    "PageInfo",
    "QueueStats",
    "RegistryCounts",
    "RetryAllResult",
    "RetryFailureGroupResult",
    "Worker",
    "bulk_fields",
]
