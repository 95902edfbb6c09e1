"""The service layer: the only code that imports rq or builds a Redis key.

This module is its public face. Code outside gateway/services/ (the REST and GraphQL transports,
the app, the CLI, settings and API keys) imports from here only, never a submodule:
tests/test_architecture.py fails otherwise. ARCHITECTURE.md shows the layers behind it.
"""

from gateway.services.access import ANONYMOUS, Principal, RequestScope, Role
from gateway.services.audit import AuditEntry, AuditPage, AuditTrail
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import (
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
from gateway.services.domain.validation import (
    DOCUMENTED_QUEUE_NAME_PATTERN,
    JOB_ID_PATTERN,
    MAX_PAGE_SIZE,
    validate_queue_name,
)
from gateway.services.instances import InstanceHealth, Instances
from gateway.services.reads.browse import ORDERS, STATES
from gateway.services.redis.backend import startup_problem
from gateway.services.redis.connection import (
    ConnectionOptions,
    SentinelTarget,
    check_ca_file,
    check_client_certificate,
    connect_redis,
    is_sentinel_url,
    parse_sentinels,
    redact,
)
from gateway.services.redis.serializers import validate_serializer
from gateway.services.refusals import INVALID_KEY, MISSING_KEY
from gateway.services.service import JobService
from gateway.services.writes.groups import GROUP_ID_PATTERN
from gateway.services.writes.selection import MAX_SELECTED_IDS

__all__ = [
    "ANONYMOUS",
    "DOCUMENTED_QUEUE_NAME_PATTERN",
    "GROUP_ID_PATTERN",
    "INVALID_KEY",
    "JOB_ID_PATTERN",
    "JOB_STATUSES",
    "MAX_PAGE_SIZE",
    "MAX_SELECTED_IDS",
    "MISSING_KEY",
    "ORDERS",
    "STATES",
    "AuditEntry",
    "AuditPage",
    "AuditTrail",
    "BulkOutcome",
    "CleanupOutcome",
    "ConnectionOptions",
    "FailedJobFilter",
    "FailureGroup",
    "FailureGroups",
    "GroupOutcome",
    "InstanceHealth",
    "Instances",
    "JobActionOutcome",
    "JobError",
    "JobInfo",
    "JobLocation",
    "JobPage",
    "JobService",
    "Principal",
    "QueueInfo",
    "QueueStats",
    "RequestScope",
    "Role",
    "SentinelTarget",
    "WorkerInfo",
    "check_ca_file",
    "check_client_certificate",
    "connect_redis",
    "is_sentinel_url",
    "parse_sentinels",
    "redact",
    "startup_problem",
    "validate_queue_name",
    "validate_serializer",
]
