"""The service layer: the only code that imports rq or builds a Redis key.

This module is its public face. Code outside gateway/services/ (the REST and GraphQL transports,
the app, the CLI, settings and API keys) imports from here only, never a submodule:
tests/test_architecture.py fails otherwise. ARCHITECTURE.md shows the layers behind it.
"""

from gateway.services.audit import AuditEntry, AuditPage, AuditTrail
from gateway.services.domain.caller import CallerInfo
from gateway.services.domain.control import (  # issue 15: on-call controls
    CommandOutcome,
    EnqueueNowOutcome,
    ReplayOutcome,
    WorkerSuspension,
)
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.gauges import QueueGauges, RqSnapshot
from gateway.services.domain.json_text import loads as read_json
from gateway.services.domain.models import (
    JOB_STATUSES,
    BulkOutcome,
    CleanupOutcome,
    EmptyOutcome,
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
    SearchPage,
    WorkerInfo,
)
from gateway.services.domain.rq3 import JobGroupInfo, JobGroupSummary, LimitedJob, RateLimitInfo
from gateway.services.domain.schedules import CronView, RqSchedulerView
from gateway.services.domain.validation import (
    DOCUMENTED_QUEUE_NAME_PATTERN,
    JOB_ID_PATTERN,
    MAX_PAGE_SIZE,
    validate_queue_name,
)
from gateway.services.history.models import HistoryBucket, QueueHistory
from gateway.services.history.read import MAX_BUCKETS, MAX_MINUTES, MAX_STEP
from gateway.services.history.runner import history_sampling
from gateway.services.instances import InstanceHealth, Instances
from gateway.services.operations.model import Operation
from gateway.services.operations.store import validate_idempotency_key
from gateway.services.operations.tracker import validate_listed
from gateway.services.principal import ANONYMOUS, Principal, RequestScope, Role
from gateway.services.reads.browse import ORDERS, STATES
from gateway.services.redis.backend import startup_problem
from gateway.services.redis.connection import (
    ConnectionOptions,
    SentinelTarget,
    check_ca_file,
    check_client_certificate,
    check_redis_url,
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
from gateway.services.writes.worker_control import MAX_SUSPEND_SECONDS

__all__ = [
    "ANONYMOUS",
    "DOCUMENTED_QUEUE_NAME_PATTERN",
    "GROUP_ID_PATTERN",
    "INVALID_KEY",
    "JOB_ID_PATTERN",
    "JOB_STATUSES",
    "MAX_BUCKETS",
    "MAX_MINUTES",
    "MAX_PAGE_SIZE",
    "MAX_SELECTED_IDS",
    "MAX_STEP",
    "MAX_SUSPEND_SECONDS",
    "MISSING_KEY",
    "ORDERS",
    "STATES",
    "AuditEntry",
    "AuditPage",
    "AuditTrail",
    "BulkOutcome",
    "CallerInfo",
    "CleanupOutcome",
    "CommandOutcome",
    "ConnectionOptions",
    "CronView",
    "EmptyOutcome",
    "EnqueueNowOutcome",
    "FailedJobFilter",
    "FailureGroup",
    "FailureGroups",
    "GroupOutcome",
    "HistoryBucket",
    "InstanceHealth",
    "Instances",
    "JobActionOutcome",
    "JobError",
    "JobGroupInfo",
    "JobGroupSummary",
    "JobInfo",
    "JobLocation",
    "JobPage",
    "JobService",
    "LimitedJob",
    "Operation",
    "Principal",
    "QueueGauges",
    "QueueHistory",
    "QueueInfo",
    "QueueStats",
    "RateLimitInfo",
    "ReplayOutcome",
    "RequestScope",
    "Role",
    "RqSchedulerView",
    "RqSnapshot",
    "SearchPage",
    "SentinelTarget",
    "WorkerInfo",
    "WorkerSuspension",
    "check_ca_file",
    "check_client_certificate",
    "check_redis_url",
    "connect_redis",
    "history_sampling",
    "is_sentinel_url",
    "parse_sentinels",
    "read_json",
    "redact",
    "startup_problem",
    "validate_idempotency_key",
    "validate_listed",
    "validate_queue_name",
    "validate_serializer",
]
