"""What a job's "payload" is, defined once, and how `--hide-payloads` hides it from viewers.

A payload is the data a job was called with or produced: `args`, `kwargs`, `result`, `meta`
(never shown; search matches `meta.` terms against it, which viewers under --hide-payloads may
not use), and the `description`, because RQ's default description is the call itself,
`charge('4111-1111-1111-1111', password='hunter2')`, with arguments the gateway may not even be
able to decode, and a custom description is free text the enqueuer may have filled with
data. A hidden description becomes the bare call, `charge(…)`, or None when the function is unknown.

Every field of every result a read can return is classified here as PAYLOAD (replaced when
hidden), NESTED (holds other classified results, walked) or SHOWN. tests/test_payloads.py fails
when a field is not classified, so a new field cannot reach a viewer unnoticed; and a dataclass
missing from these tables is hidden whole (every field None) rather than shown.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from gateway.services.audit import AuditEntry, AuditPage
from gateway.services.domain.caller import CallerInfo
from gateway.services.domain.control import CommandOutcome, EnqueueNowOutcome, ReplayOutcome, WorkerSuspension
from gateway.services.domain.gauges import QueueGauges, RqSnapshot
from gateway.services.domain.models import (
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
from gateway.services.domain.schedules import (
    CronJobInfo,
    CronRun,
    CronSchedulerInfo,
    CronView,
    RqSchedulerJob,
    RqSchedulerView,
)
from gateway.services.history.models import HistoryBucket, QueueHistory
from gateway.services.operations.model import Operation, OperationSighting
from gateway.services.reads.sighting import JobSighting
from gateway.services.reads.streams import JobStream
from gateway.services.redis.origins import JobPlace

ELLIPSIS = "…"


def _gone(_owner: Any) -> None:
    return None


def bare_call(job: JobInfo) -> str | None:
    """The description a viewer sees under --hide-payloads: the function without its arguments."""
    return f"{job.func_name}({ELLIPSIS})" if job.func_name else None


def operation_selector(operation: Operation) -> dict[str, Any]:
    """The selector a viewer sees under --hide-payloads: a search query's text (its `args:`,
    `kwargs.` and free-text terms may quote a job's arguments) becomes None. The other kinds hold
    no payload text: ids, and a filter's function, exception type, dates and `search`, which
    matches the traceback, shown to viewers anyway."""
    if "query" in operation.selector:
        return {**operation.selector, "query": None}
    return operation.selector


# field name -> the value shown instead, computed from the whole (unhidden) object
PAYLOAD: dict[type, dict[str, Callable[[Any], Any]]] = {
    JobInfo: {"args": _gone, "kwargs": _gone, "result": _gone, "description": bare_call},
    Operation: {"selector": operation_selector},
}
NESTED: dict[type, frozenset[str]] = {
    JobInfo: frozenset({"location"}),
    JobPage: frozenset({"jobs"}),
    QueueInfo: frozenset({"stats"}),
    FailureGroups: frozenset({"groups"}),
    AuditPage: frozenset({"entries"}),
    BulkOutcome: frozenset({"errors"}),
    GroupOutcome: frozenset({"errors"}),
    JobSighting: frozenset({"job", "place", "links"}),
    SearchPage: frozenset({"jobs"}),
    JobStream: frozenset({"chunks"}),  # walked chunk by chunk as it is read, see hide_payloads
    RqSnapshot: frozenset({"queues", "workers"}),
    QueueGauges: frozenset({"stats"}),
    QueueHistory: frozenset({"buckets"}),
    CronView: frozenset({"schedulers"}),
    CronSchedulerInfo: frozenset({"cron_jobs"}),
    CronJobInfo: frozenset({"history"}),
    RqSchedulerView: frozenset({"jobs"}),
    RateLimitInfo: frozenset({"allowed", "waiting"}),
    JobGroupInfo: frozenset({"jobs"}),
    Operation: frozenset({"errors"}),
    OperationSighting: frozenset({"operation", "places", "every_error"}),
}
# Shown as they are. Exception text is not payload: a traceback or a failure group's message may
# quote data the job raised with (README "Security" says so).
SHOWN: dict[type, frozenset[str]] = {
    JobInfo: frozenset(
        {"job_id", "status", "origin", "func_name", "created_at", "enqueued_at", "started_at"}
        | {"ended_at", "exc_info", "dependency_ids", "dependent_ids", "origin_known"}
    ),
    JobLocation: frozenset({"queue", "registry"}),
    JobPage: frozenset({"total", "end_cursor", "has_next_page", "cursors"}),
    QueueStats: frozenset(field.name for field in dataclasses.fields(QueueStats)),
    QueueInfo: frozenset({"latency_seconds", "worker_count", "name_decodes"}),
    WorkerInfo: frozenset(field.name for field in dataclasses.fields(WorkerInfo)),
    FailureGroup: frozenset(field.name for field in dataclasses.fields(FailureGroup)),
    FailureGroups: frozenset({"total_failed"}),
    CleanupOutcome: frozenset({"queue_name", "removed"}),
    EmptyOutcome: frozenset(field.name for field in dataclasses.fields(EmptyOutcome)),
    JobActionOutcome: frozenset({"job_id", "message", "success"}),
    JobError: frozenset({"job_id", "error"}),
    BulkOutcome: frozenset({"total_failed", "done_jobs"}),
    GroupOutcome: frozenset({"total_failed", "done_jobs", "group_id", "dry_run", "matched_count"}),
    AuditEntry: frozenset(field.name for field in dataclasses.fields(AuditEntry)),
    AuditPage: frozenset({"total", "end_cursor", "has_next_page"}),
    JobStream: frozenset({"empty"}),
    CallerInfo: frozenset({"name", "role", "queue_patterns", "payloads_hidden"}),
    JobPlace: frozenset({"job_id", "exists", "queue"}),
    QueueGauges: frozenset({"ready_count", "latency_seconds"}),
    QueueHistory: frozenset({"queue", "step"}),
    HistoryBucket: frozenset(field.name for field in dataclasses.fields(HistoryBucket)),
    SearchPage: frozenset({"scanned", "complete", "next_cursor", "cursors"}),
    # On-call controls (issue 15): ids, names and states, no job data.
    WorkerSuspension: frozenset(field.name for field in dataclasses.fields(WorkerSuspension)),
    CommandOutcome: frozenset(field.name for field in dataclasses.fields(CommandOutcome)),
    EnqueueNowOutcome: frozenset(field.name for field in dataclasses.fields(EnqueueNowOutcome)),
    ReplayOutcome: frozenset(field.name for field in dataclasses.fields(ReplayOutcome)),
    # Schedule views: functions, queues, times and ids; the cron jobs' args are not read at all.
    CronRun: frozenset(field.name for field in dataclasses.fields(CronRun)),
    CronJobInfo: frozenset(field.name for field in dataclasses.fields(CronJobInfo)) - {"history"},
    CronSchedulerInfo: frozenset(field.name for field in dataclasses.fields(CronSchedulerInfo))
    - {"cron_jobs"},
    CronView: frozenset(),
    RqSchedulerJob: frozenset(field.name for field in dataclasses.fields(RqSchedulerJob)),
    RqSchedulerView: frozenset({"total"}),
    LimitedJob: frozenset(field.name for field in dataclasses.fields(LimitedJob)),
    RateLimitInfo: frozenset({"key", "concurrency", "allowed_count", "waiting_count"}),
    JobGroupSummary: frozenset(field.name for field in dataclasses.fields(JobGroupSummary)),
    JobGroupInfo: frozenset({"name", "job_count"}),
    # Its selector is PAYLOAD: a search query may quote a job's arguments.
    Operation: frozenset(field.name for field in dataclasses.fields(Operation)) - {"errors", "selector"},
}


@dataclasses.dataclass(frozen=True)
class _Plan:
    replace: dict[str, Callable[[Any], Any]]
    nested: frozenset[str]


@functools.cache
def _plan(kind: type) -> _Plan | None:
    """How to hide one result type; None when nothing in it needs hiding."""
    names = {field.name for field in dataclasses.fields(kind)}
    payload = PAYLOAD.get(kind, {})
    nested = NESTED.get(kind, frozenset())
    unclassified = names - set(payload) - nested - SHOWN.get(kind, frozenset())
    # Fail closed: an unclassified field is hidden, not shown (the classification test fails too).
    replace = {**payload, **{name: _gone for name in unclassified}}
    return _Plan(replace, nested) if replace or nested else None


def hide_payloads(
    result: Any, foreign: Callable[[JobInfo], bool] | None = None, listed_in: str | None = None
) -> Any:
    """`result` with every payload field of every job in it replaced (see the module docstring):
    a JobInfo, a JobPage, a list or tuple of them, or any other result the service returns.

    With `foreign`, only the jobs it names are hidden, their traceback too, and nothing else:
    for a queue-limited key reading its queue, the jobs of another (or of an unknown) queue that
    sit in it (damaged data: a job whose hash names another origin, or none, in this queue's
    registry). Their origin is then `listed_in`, the queue read, as for a job without one."""
    if isinstance(result, JobStream):
        return result.map(lambda chunk: hide_payloads(chunk, foreign, listed_in))
    if isinstance(result, list):
        return [hide_payloads(item, foreign, listed_in) for item in result]
    if isinstance(result, tuple):
        return tuple(hide_payloads(item, foreign, listed_in) for item in result)
    if isinstance(result, dict):
        return {key: hide_payloads(value, foreign, listed_in) for key, value in result.items()}
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return result
    plan = _plan(type(result))
    if plan is None:
        return result
    if foreign is None:
        changes = {name: hide(result) for name, hide in plan.replace.items()}
    elif isinstance(result, JobInfo) and foreign(result):
        changes = {name: hide(result) for name, hide in plan.replace.items()} | {"exc_info": None}
        if listed_in is not None:
            changes |= {"origin": listed_in, "origin_known": False}
    else:
        changes = {}
    changes.update({name: hide_payloads(getattr(result, name), foreign, listed_in) for name in plan.nested})
    return dataclasses.replace(result, **changes)
