"""JobService: the one entry point both transports call. It validates input, talks to Redis
through RQ's key layout, and turns Redis failures into BackendUnavailable."""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

import redis
from rq.serializers import resolve_serializer

from gateway.errors import (
    FailedJobNotFound,
    FailureGroupNotFound,
    Forbidden,
    GatewayError,
    InvalidParameter,
    JobNotFound,
    OperationNotFound,
)
from gateway.services.access import ANONYMOUS, Principal, RequestScope, Role, action, public, read
from gateway.services.audit import AuditPage, read_audit
from gateway.services.domain.caller import CallerInfo
from gateway.services.domain.control import (
    CommandOutcome,
    EnqueueNowOutcome,
    ReplayOutcome,
    WorkerSuspension,
)
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.gauges import RqSnapshot
from gateway.services.domain.models import (
    BulkOutcome,
    CleanupOutcome,
    FailureGroups,
    GroupOutcome,
    JobActionOutcome,
    JobInfo,
    JobPage,
    QueueInfo,
    QueueStats,
    SearchPage,
    WorkerInfo,
)
from gateway.services.domain.outcome import RETRY_ERRORS, RETRY_REFUSALS, Outcome
from gateway.services.domain.rq3 import JobGroupInfo, JobGroupSummary, RateLimitInfo
from gateway.services.domain.schedules import CronView, RqSchedulerView
from gateway.services.domain.search_query import SearchQuery, parse_query
from gateway.services.domain.validation import (
    validate_job_id,
    validate_name,
    validate_page_size,
    validate_queue_name,
)
from gateway.services.history.models import QueueHistory
from gateway.services.history.read import history_range, read_history
from gateway.services.job_access import authorise_job, hidden_jobs
from gateway.services.operations.model import Operation, Selector, validate_action
from gateway.services.operations.runner import OperationRunner
from gateway.services.operations.tracker import Operations
from gateway.services.payloads import hide_payloads
from gateway.services.reads.browse import Browser, check_page_args
from gateway.services.reads.cron import read_cron
from gateway.services.reads.filtered import FilteredView, filtered_page
from gateway.services.reads.known import ensure_known
from gateway.services.reads.locate import fetch_located_job
from gateway.services.reads.queues import get_queue, list_queues
from gateway.services.reads.rq3 import read_job_group, read_job_groups, read_rate_limits
from gateway.services.reads.rq_scheduler import read_rq_scheduler
from gateway.services.reads.search import SearchScope
from gateway.services.reads.search_page import DEFAULT_SCAN_LIMIT, lookup_page, search_page, search_scope
from gateway.services.reads.sighting import JobSighting, read_sighting
from gateway.services.reads.snapshot import SharedRead, read_snapshot
from gateway.services.reads.stats import queue_stats
from gateway.services.reads.streams import JobStream, filtered_chunks, registry_chunks
from gateway.services.reads.suspension import read_suspension
from gateway.services.reads.workers import list_workers
from gateway.services.redis.backend import BackendHealth, backend_call, backend_steps, probe
from gateway.services.redis.origins import read_places
from gateway.services.redis.registry import RegistryReader, decode_cursor
from gateway.services.writes import worker_control
from gateway.services.writes.cleanup import cleanup_queue
from gateway.services.writes.enqueue_now import EnqueueNow
from gateway.services.writes.failed_actions import FailedJobActions, run_bulk
from gateway.services.writes.groups import act_on_group, failure_groups, validate_group_id
from gateway.services.writes.lifecycle import Lifecycle
from gateway.services.writes.replay import replay as replay_job
from gateway.services.writes.selection import FilteredChunks, run_selected, selected_ids


def _done_jobs(outcome: BulkOutcome) -> list[str]:
    return outcome.done_jobs


def _replay_ids(outcome: ReplayOutcome) -> list[str]:
    return [outcome.replay_of, outcome.job_id]


def _sized(page: JobPage, first: int) -> JobPage:
    """`first` 0 asks for the total alone: an empty page that has no next page, in both
    transports (GraphQL's endCursor would be null, and following it would start over)."""
    return dataclasses.replace(page, has_next_page=False) if first == 0 else page


class JobService:
    def __init__(
        self,
        connection: redis.Redis,
        default_queue: str = "default",
        serializer: Any = None,
        instance: str | None = None,
    ):
        self.connection = connection
        self.default_queue = validate_queue_name(default_queue)
        self.serializer = resolve_serializer(serializer)
        self._reader = RegistryReader(connection)
        # `instance`: this Redis' name when the gateway serves several (its 503s name it).
        self.health = BackendHealth(instance)
        self._snapshots = SharedRead(lambda: read_snapshot(connection))  # shared by scoped copies

    @public
    def queue_name(self, queue: str | None = None) -> str:
        return validate_queue_name(queue if queue is not None else self.default_queue)

    def _actions(self, queue: str | None, dry_run: bool = False) -> FailedJobActions:
        return FailedJobActions(self.connection, self.queue_name(queue), self.serializer, dry_run)

    def _known_if_empty(self, queue: str | None, empty: bool) -> None:
        """A queue named explicitly whose answer is empty must be one RQ knows, or the answer is
        QueueNotFound rather than zeros (services/reads/known.py). Checked only when empty, so a
        non-empty answer costs no extra round trip; the default queue is never checked."""
        if queue is not None and empty:
            ensure_known(self.connection, self.queue_name(queue))

    @public
    @backend_call(probe=True)
    def ping(self) -> bool:
        probe(self.connection)
        return True

    @read()
    @backend_call()
    def list_failed(
        self,
        queue: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        job_filter: FailedJobFilter | None = None,
    ) -> list[JobInfo]:
        """Failed jobs in registry order (ascending score, ties by id), orphans included.
        With a filter, offset and limit count matching jobs."""
        return [job for chunk in self.stream_failed(queue, offset, limit, job_filter) for job in chunk]

    @read()
    @backend_call()
    def stream_failed(
        self,
        queue: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        job_filter: FailedJobFilter | None = None,
        chunk: int | None = None,
    ) -> JobStream:
        """list_failed's jobs, read as the stream is consumed: `chunk` jobs (default STREAM_CHUNK)
        per Redis round trip, or a filter's walk chunks. Input, access and the first chunk are
        checked now; a Redis failure later is BackendUnavailable raised from the iteration."""
        if offset < 0:
            raise InvalidParameter("offset must be 0 or more")
        if limit is not None and limit < 0:
            raise InvalidParameter("limit must be 0 or more")
        name = self.queue_name(queue)
        if job_filter is not None and not job_filter.is_empty:
            chunks = filtered_chunks(self._view(name, job_filter), offset, limit)
        else:
            chunks = registry_chunks(
                self.connection, self._reader, self.serializer, name, offset, limit, chunk
            )
        stream = JobStream(backend_steps(self.health, chunks, "stream_failed")).prefetched()
        self._known_if_empty(queue, stream.empty)
        return stream

    @read()
    @backend_call()
    def failed_page(
        self,
        queue: str | None = None,
        first: int = 100,
        after: str | None = None,
        with_results: bool = True,
        job_filter: FailedJobFilter | None = None,
        with_total: bool = True,
    ) -> JobPage:
        """A cursor page of failed jobs: the cursor is the last entry's (score, id), so a page
        continues exactly after it even when earlier entries were retried or deleted meanwhile."""
        if job_filter is not None and not job_filter.is_empty:
            validate_page_size(first)
            cursor = decode_cursor(after) if after else None
            view = self._view(self.queue_name(queue), job_filter)
            page = filtered_page(view, first, cursor, with_results, with_total)
            self._known_if_empty(queue, not page.jobs and page.total <= 0)
            return _sized(page, first)
        return self.queue_jobs(queue, "failed", first, after, "asc", with_results)

    @read()
    @backend_call()
    def get_job(self, job_id: str, with_results: bool = True) -> JobInfo:
        validate_job_id(job_id)
        self._job_queue(job_id, needs_queue=False)
        job = fetch_located_job(
            self.connection, job_id, self.serializer, self.default_queue, with_results=with_results
        )
        if job is None:
            raise JobNotFound(job_id)
        return job

    @read()
    @backend_call()
    def stats(self, queue: str | None = None) -> QueueStats:
        return queue_stats(self.connection, self.queue_name(queue), must_exist=queue is not None)

    @action("retry", Role.OPERATOR)
    @backend_call()
    def retry(self, job_id: str, queue: str | None = None) -> JobActionOutcome:
        """Requeue a failed job from the failed registry of its own queue; `queue`, when given,
        must be that queue."""
        validate_job_id(job_id)
        name = self._job_queue(job_id, queue, registry=True)
        (code,) = FailedJobActions(self.connection, name, self.serializer).requeue([job_id])
        if code in RETRY_REFUSALS:
            raise RETRY_REFUSALS[code](job_id)
        if code != Outcome.REQUEUED:
            raise FailedJobNotFound(job_id)
        return JobActionOutcome(job_id=job_id, message=f"Job {job_id} has been requeued successfully")

    @action("delete", Role.ADMIN)
    @backend_call()
    def delete(self, job_id: str, queue: str | None = None) -> JobActionOutcome:
        """Delete a failed job from the failed registry of its own queue, as retry finds it."""
        validate_job_id(job_id)
        name = self._job_queue(job_id, queue, registry=True)
        (code,) = FailedJobActions(self.connection, name, self.serializer).delete([job_id])
        if code == Outcome.NOT_IN_REGISTRY:
            raise FailedJobNotFound(job_id)
        return JobActionOutcome(job_id=job_id, message=f"Job {job_id} has been deleted successfully")

    @action("retry_all", Role.OPERATOR, ids_from_result=_done_jobs)
    @backend_call()
    def retry_all(
        self, queue: str | None = None, job_filter: FailedJobFilter | None = None, dry_run: bool = False
    ) -> BulkOutcome:
        actions = self._actions(queue, dry_run)
        source = self._bulk_source(actions, queue, job_filter)
        outcome = run_bulk(source, actions.requeue, RETRY_ERRORS, Outcome.REQUEUED)
        self._known_if_empty(queue, not outcome.total_failed)
        return outcome

    @action("clear", Role.ADMIN, ids_from_result=_done_jobs)
    @backend_call()
    def clear(
        self, queue: str | None = None, job_filter: FailedJobFilter | None = None, dry_run: bool = False
    ) -> BulkOutcome:
        actions = self._actions(queue, dry_run)
        outcome = run_bulk(self._bulk_source(actions, queue, job_filter), actions.delete, {}, Outcome.DELETED)
        self._known_if_empty(queue, not outcome.total_failed)
        return outcome

    @cached_property
    def _browser(self) -> Browser:
        return Browser(self.connection, self._reader, self.serializer)

    @read()
    @backend_call()
    def queue_jobs(
        self,
        queue: str | None = None,
        state: str = "queued",
        first: int = 100,
        after: str | None = None,
        order: str = "asc",
        with_results: bool = True,
    ) -> JobPage:
        """A cursor page of a queue's jobs in one state (the queue itself for "queued"), oldest
        first with order "asc". See services/reads/browse.py for how cursors stay stable."""
        check_page_args(state, order, first)
        page = self._browser.page(self.queue_name(queue), state, first, after, order, with_results)
        self._known_if_empty(queue, not page.total)
        return _sized(page, first)

    @read()
    @backend_call()
    def queues(self) -> list[QueueInfo]:
        """Every queue in RQ's queues set, by name, with counts, latency and workers; only the
        queues the caller's API key may access."""
        return [queue for queue in list_queues(self.connection) if self.may_access_queue(queue.name)]

    @read(queue_arg="name")
    @backend_call()
    def queue(self, name: str) -> QueueInfo:
        return get_queue(self.connection, validate_queue_name(name))

    @read()
    @backend_call()
    def workers(self) -> list[WorkerInfo]:
        return list_workers(self.connection)

    @action("cleanup", Role.ADMIN, queue_arg="name")
    @backend_call()
    def cleanup_queue(self, name: str) -> CleanupOutcome:
        """MUTATES: runs RQ's registry cleanup on the queue (expired entries are removed and
        abandoned started jobs move to the failed registry)."""
        outcome = cleanup_queue(self.connection, validate_queue_name(name), self.serializer)
        self._known_if_empty(name, not outcome.total_removed)
        return outcome

    @read()
    @backend_call()
    def failure_groups(self, queue: str | None = None) -> FailureGroups:
        """The queue's failed jobs grouped by function, exception type and cause line (causes.py)."""
        groups = failure_groups(self.connection, self.queue_name(queue), self.serializer)
        self._known_if_empty(queue, not groups.total_failed)
        return groups

    @action("retry_group", Role.OPERATOR, ids_from_result=_done_jobs)
    @backend_call()
    def retry_failure_group(
        self, group_id: str, queue: str | None = None, dry_run: bool = False
    ) -> GroupOutcome:
        """Requeue every current member of a failure group (FailureGroupNotFound when none)."""
        return self._act_on_group(group_id, queue, retry=True, dry_run=dry_run)

    @action("delete_group", Role.ADMIN, ids_from_result=_done_jobs)
    @backend_call()
    def delete_failure_group(
        self, group_id: str, queue: str | None = None, dry_run: bool = False
    ) -> GroupOutcome:
        """Delete every current member of a failure group (FailureGroupNotFound when none)."""
        return self._act_on_group(group_id, queue, retry=False, dry_run=dry_run)

    def _act_on_group(self, group_id: str, queue: str | None, retry: bool, dry_run: bool) -> GroupOutcome:
        validate_group_id(group_id)
        name = self.queue_name(queue)
        actions = FailedJobActions(self.connection, name, self.serializer, dry_run)
        try:
            return act_on_group(actions, self.connection, self.serializer, name, group_id, retry, dry_run)
        except FailureGroupNotFound:
            self._known_if_empty(queue, True)
            raise

    # --- Filters, dry runs, selective bulk actions, cancel/requeue (issue 4) ---

    def _view(self, queue_name: str, job_filter: FailedJobFilter) -> FilteredView:
        return FilteredView(self.connection, queue_name, job_filter, self.serializer)

    def _bulk_source(
        self, actions: FailedJobActions, queue: str | None, job_filter: FailedJobFilter | None
    ) -> Any:
        """What run_bulk walks: the whole registry, or only the entries matching the filter."""
        if job_filter is None or job_filter.is_empty:
            return actions
        return FilteredChunks(self._view(self.queue_name(queue), job_filter))

    @action("retry_selected", Role.OPERATOR)
    @backend_call()
    def retry_selected(self, job_ids: list[str], queue: str | None = None) -> BulkOutcome:
        """Requeue the given failed jobs, each once; ids not in the failed registry are errors."""
        actions = self._actions(queue)
        ids = selected_ids(job_ids)
        outcome = run_selected(ids, actions.requeue, RETRY_ERRORS, Outcome.REQUEUED, self._hidden_jobs(ids))
        self._known_if_empty(queue, not outcome.done_jobs)
        return outcome

    @action("delete_selected", Role.ADMIN)
    @backend_call()
    def delete_selected(self, job_ids: list[str], queue: str | None = None) -> BulkOutcome:
        """Delete the given failed jobs, each once; ids not in the failed registry are errors."""
        actions = self._actions(queue)
        ids = selected_ids(job_ids)
        outcome = run_selected(ids, actions.delete, {}, Outcome.DELETED, self._hidden_jobs(ids))
        self._known_if_empty(queue, not outcome.done_jobs)
        return outcome

    @action("cancel", Role.OPERATOR)
    @backend_call()
    def cancel(self, job_id: str) -> JobActionOutcome:
        """Cancel a queued, deferred or scheduled job, atomically against workers dequeuing it."""
        validate_job_id(job_id)
        name = self._job_queue(job_id)
        Lifecycle(self.connection, self.default_queue, self.serializer).cancel(job_id, name)
        return JobActionOutcome(job_id=job_id, message=f"Job {job_id} has been canceled successfully")

    @action("requeue", Role.OPERATOR)
    @backend_call()
    def requeue(self, job_id: str) -> JobActionOutcome:
        """Requeue a canceled or stopped job on its origin queue, as RQ's registry requeue does."""
        validate_job_id(job_id)
        name = self._job_queue(job_id)
        Lifecycle(self.connection, self.default_queue, self.serializer).requeue(job_id, name)
        return JobActionOutcome(job_id=job_id, message=f"Job {job_id} has been requeued successfully")

    # Access control and audit (services/access.py): the transports call a copy of the service
    # bound to the request's principal; every public method above carries its declaration.
    scope: RequestScope | None = None

    @public
    def scoped(self, scope: RequestScope) -> JobService:
        """This service for one request: shares the connection and state, carries the principal."""
        bound = copy.copy(self)
        bound.scope = scope
        return bound

    @public
    def may_access_queue(self, queue: str) -> bool:
        """For operations that list queues: keep only the names the caller's key may access."""
        return self.scope is None or self.scope.principal.may_access_queue(queue)

    @property
    def _principal(self) -> Principal | None:
        return self.scope.principal if self.scope is not None else None

    def _job_queue(
        self, job_id: str, queue: str | None = None, registry: bool = False, needs_queue: bool = True
    ) -> str:
        """The queue an operation on one job acts on, once job_access.authorise_job allows it.
        Where the job is is read here, once, and only when the check or the operation needs it.
        `registry`: the operation acts on a failed registry (retry, delete)."""
        named = self.queue_name(queue) if queue is not None else None
        principal = self._principal
        restricted = principal is not None and bool(principal.queues)
        place = read_places(self.connection, [job_id])[0] if needs_queue or restricted else None
        return authorise_job(principal, job_id, place, named, self.default_queue, registry)

    def _recorded_queue(self, job_id: str) -> str | None:
        """The job's queue for the audit record of a call refused before its job was checked."""
        try:
            validate_job_id(job_id)
            return read_places(self.connection, [job_id])[0].queue
        except (GatewayError, redis.RedisError):
            return None  # the refusal is answered and recorded all the same

    def _hidden_jobs(self, job_ids: list[str]) -> set[str]:
        principal = self._principal
        restricted = principal is not None and bool(principal.queues)
        return hidden_jobs(principal, read_places(self.connection, job_ids) if restricted else [])

    @read(Role.ADMIN)
    @backend_call()
    def audit_log(self, first: int = 100, after: str | None = None) -> AuditPage:
        """The audit trail, newest first, a page at a time. A queue-limited key reads only the
        records of queues it may access: not those of other queues, nor queue-less ones."""
        validate_page_size(first)
        # The trail the mutations were written to: the default instance's, whichever instance
        # this service reads (several Redis instances keep one trail).
        trail = (
            self.scope.audit.connection if self.scope is not None and self.scope.audit else self.connection
        )
        if self.scope is None or not self.scope.principal.queues:
            return read_audit(trail, first, after)
        visible = self.scope.principal.may_access_queue
        return read_audit(trail, first, after, lambda queue: isinstance(queue, str) and visible(queue))

    # The console (issue 11): who the caller is, so a client shows only the controls its key may use.
    @read()
    def caller(self) -> CallerInfo:
        """The caller's key name, role and queue patterns; a missing or bad key is refused as
        by every read, which is how a client learns that it must ask for a key."""
        principal = self._principal or ANONYMOUS
        role = principal.role.label if principal.role is not None else ""
        return CallerInfo(name=principal.name, role=role, queue_patterns=principal.queues)

    # --- Tracked operations (issue 13 items 1 and 2): services/operations/ ---

    _operations: Operations | None = None

    @public
    def use_operations(self, audit: Any = None, max_rate: float = 0.0) -> None:
        """Run operations with this audit trail and jobs/s cap (`--bulk-max-rate`); called once
        by the app, before the service is scoped to requests (the copies share it)."""
        runner = OperationRunner(self.connection, self.serializer, self.health, audit, max_rate)
        self._operations = Operations(self.connection, self.serializer, runner)

    @property
    def operations_runner(self) -> OperationRunner:
        return self._tracker.runner

    @property
    def _tracker(self) -> Operations:
        if self._operations is None:
            self.use_operations()
        assert self._operations is not None
        return self._operations

    @public
    def start_operation(
        self,
        action: str,
        selector: Any,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Operation, bool]:
        """(the operation, whether it is new): retry needs an operator, delete an admin, as
        retry-all and clear; each is checked and audited as its own action."""
        if validate_action(action) == "retry":
            return self.start_retry_operation(selector, queue, dry_run, idempotency_key)
        return self.start_delete_operation(selector, queue, dry_run, idempotency_key)

    @action("operation_retry", Role.OPERATOR)
    @backend_call()
    def start_retry_operation(
        self,
        selector: Any,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Operation, bool]:
        return self._start("retry", selector, queue, dry_run, idempotency_key)

    @action("operation_delete", Role.ADMIN)
    @backend_call()
    def start_delete_operation(
        self,
        selector: Any,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Operation, bool]:
        return self._start("delete", selector, queue, dry_run, idempotency_key)

    def _start(
        self, action_name: str, selector: Any, queue: str | None, dry_run: bool, idempotency_key: str | None
    ) -> tuple[Operation, bool]:
        parsed = Selector.parse(selector)
        name = self.queue_name(queue)
        principal = self._principal.name if self._principal is not None else "-"
        if dry_run:
            operation = self._tracker.dry_run(action_name, name, parsed, principal)
            self._known_if_empty(queue, not operation.total)
            return operation, False
        if parsed.kind != "job_ids":
            self._known_if_empty(queue, not self._tracker.failed_count(name))
        return self._tracker.start(action_name, name, parsed, principal, idempotency_key)

    @read()
    @backend_call()
    def operation(self, operation_id: str) -> Operation:
        found = self._tracker.get(operation_id)
        if found is None or not self.may_access_queue(found.queue):
            raise OperationNotFound(operation_id)
        return found

    @read()
    @backend_call()
    def operations(self, first: int = 20) -> list[Operation]:
        """The latest operations, newest first, on the queues the key may access."""
        return [op for op in self._tracker.latest(first) if self.may_access_queue(op.queue)]

    @action("operation_cancel", Role.OPERATOR)
    @backend_call()
    def cancel_operation(self, operation_id: str) -> Operation:
        """Stop an operation before its next chunk (a delete operation needs an admin, as its
        start did). Canceling one that has ended changes nothing and answers it as it is."""
        found = self.operation(operation_id)
        principal = self._principal
        if found.action == "delete" and principal is not None and (principal.role or 0) < Role.ADMIN:
            raise Forbidden(f"API key {principal.name!r} may not cancel a delete operation; it needs admin")
        self._tracker.cancel(operation_id)
        return self.operation(operation_id)

    # Issue 12, /metrics: RQ's gauges for Prometheus, one read per second whatever the scrapers.
    @read()
    @backend_call()
    def rq_snapshot(self) -> RqSnapshot:
        """Every queue's counts and head-job age and every live worker, in three round trips
        and no writes (services/reads/snapshot.py); any valid key may read it."""
        return self._snapshots.get()

    # --- Queue history (issue 12 points 2 and 3) ---

    @read(queue_arg="name")
    @backend_call()
    def queue_history(
        self, name: str, since: str | None = None, until: str | None = None, step: int = 1
    ) -> QueueHistory:
        """The queue's per-minute history (services/history) in buckets of `step` minutes from
        `since` to `until` (ISO 8601; by default the last hour). QueueNotFound as other reads."""
        first, minutes = history_range(since, until, step, datetime.now(timezone.utc))
        return read_history(self.connection, validate_queue_name(name), first, minutes, step)

    @read()
    def view_operation(self, operation: Operation) -> Operation:
        """A shared read of an operation (its live stream) as this caller sees it: not found
        when the key may not access its queue, as `operation` answers."""
        if not self.may_access_queue(operation.queue):
            raise OperationNotFound(operation.id)
        return operation

    # --- Search across jobs (issue 13, item 3): services/reads/search.py ---

    search_scan_limit: int = DEFAULT_SCAN_LIMIT  # --search-scan-limit, set by the app

    @public
    def search_scope(
        self, query: SearchQuery, queue: str | None = None, state: str | None = None
    ) -> SearchScope:
        """Where a search by this service's caller looks, and what it may match: every queue the
        key may access (or the named one), and jobs as the caller sees them. Under
        --hide-payloads a viewer may not search args, kwargs or meta (Forbidden)."""
        hides = self.scope is not None and self.scope.hides_payloads
        if hides and query.reads_payload:
            raise Forbidden(
                "Job payloads are hidden from this API key (--hide-payloads): args:, kwargs. and "
                "meta. terms are not allowed, and free text matches only the bare call"
            )
        return search_scope(
            self.connection, query, queue, state, self.may_access_queue, hide_payloads if hides else None
        )

    @read(queue_arg="")  # not one queue: search_scope checks the named one, or keeps the allowed ones
    @backend_call()
    def search(
        self,
        query: str,
        queue: str | None = None,
        state: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> SearchPage:
        """A page of the jobs matching `query` (services/domain/search_query.py), examining at
        most search_scan_limit entries; `cursor` resumes where the last page stopped."""
        parsed = parse_query(query)
        scope = self.search_scope(parsed, queue, state)
        if parsed.values("id"):
            return lookup_page(self.connection, self.serializer, parsed, scope, self.default_queue)
        page = search_page(
            self.connection, self.serializer, parsed, scope, limit, cursor, self.search_scan_limit
        )
        self._known_if_empty(queue, not page.jobs and page.complete)
        return page

    # --- On-call controls: stop, suspend/resume, shutdown, enqueue-now, replay (issue 15) ---

    @action("stop", Role.OPERATOR)
    @backend_call()
    def stop_job(self, job_id: str) -> CommandOutcome:
        """Send RQ's stop-job command to the worker running the job (409 when it is not running)."""
        validate_job_id(job_id)
        self._job_queue(job_id)
        return worker_control.stop_job(self.connection, job_id)

    @read()
    @backend_call()
    def worker_suspension(self) -> WorkerSuspension:
        return read_suspension(self.connection)

    @action("suspend_workers", Role.ADMIN)
    @backend_call()
    def suspend_workers(self, duration: int | None = None) -> WorkerSuspension:
        """`rq suspend [--duration SECONDS]`: no worker starts a new job meanwhile."""
        return worker_control.suspend(self.connection, duration)

    @action("resume_workers", Role.ADMIN)
    @backend_call()
    def resume_workers(self) -> WorkerSuspension:
        """`rq resume`."""
        return worker_control.resume(self.connection)

    @action("shutdown_worker", Role.ADMIN)
    @backend_call()
    def shutdown_worker(self, worker_name: str, kill_horse: bool = False) -> CommandOutcome:
        """RQ's shutdown command (warm: after the current job); `kill_horse` kills that job too."""
        return worker_control.shutdown_worker(self.connection, worker_name, kill_horse)

    @action("enqueue_now", Role.OPERATOR)
    @backend_call()
    def enqueue_now(self, job_id: str, force: bool = False) -> EnqueueNowOutcome:
        """Move a scheduled job to its queue now, exactly once against RQ's scheduler; a deferred
        job only with `force` (it then runs without waiting for its dependencies)."""
        validate_job_id(job_id)
        name = self._job_queue(job_id)
        return EnqueueNow(self.connection, self.default_queue, self.serializer).run(job_id, name, force)

    @action("replay", Role.OPERATOR, ids_from_result=_replay_ids)
    @backend_call()
    def replay(self, job_id: str, target_queue: str | None = None) -> ReplayOutcome:
        """A new job with a finished or failed job's call, on its queue or `target_queue`."""
        validate_job_id(job_id)
        origin = self._job_queue(job_id)
        target = validate_queue_name(target_queue) if target_queue is not None else origin
        if not self.may_access_queue(target):
            raise Forbidden(f"API key {self._principal_name!r} may not access queue {target!r}")
        return replay_job(self.connection, job_id, target, self.serializer)

    @property
    def _principal_name(self) -> str:
        return self.scope.principal.name if self.scope is not None else "anonymous"

    @read()
    @backend_call()
    def cron(self) -> CronView:
        """RQ's CronSchedulers and their cron jobs (of the queues the key may access), with each
        cron job's newest runs; empty without a CronScheduler (or with RQ < 2.4)."""
        return read_cron(self.connection, self.may_access_queue)

    @read()
    @backend_call()
    def rq_scheduler(self, limit: int = 100) -> RqSchedulerView:
        """rq-scheduler's scheduled jobs by next run; empty when its key does not exist."""
        validate_page_size(limit)
        return read_rq_scheduler(self.connection, self.serializer, limit, self._may_see_queue)

    def _may_see_queue(self, queue: str | None) -> bool:
        """A job's queue, for reads that list jobs of many queues: a job whose queue is unknown
        is in no pattern, so only keys without patterns see it (as job_access.py rules)."""
        principal = self._principal
        if principal is None or not principal.queues:
            return True
        return queue is not None and principal.may_access_queue(queue)

    @read()
    @backend_call()
    def rate_limits(self) -> list[RateLimitInfo]:
        """RQ 3's rate-limit keys: concurrency, the jobs holding a slot and those waiting."""
        return read_rate_limits(self.connection, self._may_see_queue, self._restricted)

    @read()
    @backend_call()
    def job_groups(self) -> list[JobGroupSummary]:
        """RQ's job groups with their sizes; a queue-limited key lists none (a group spans
        queues: it reads one group by name, and sees only its queues' jobs)."""
        return [] if self._restricted else read_job_groups(self.connection)

    @read()
    @backend_call()
    def job_group(self, name: str) -> JobGroupInfo:
        """One RQ job group's jobs with their statuses (JobGroupNotFound when it has none)."""
        validate_name(name, "job group")
        return read_job_group(self.connection, name, self._may_see_queue, self._restricted)

    @property
    def _restricted(self) -> bool:
        principal = self._principal
        return principal is not None and bool(principal.queues)

    # --- Live views (issue 11, subscriptions): gateway/live reads once for every subscriber with
    # the unbound service; each subscriber sees that read through its own key with these ---

    @read()
    def live_queue(self, queue: str | None = None) -> str:
        """The queue whose counts a live stream watches (the default queue when None), once the
        caller's key may access it: the guard checks the role and the queue patterns."""
        return self.queue_name(queue)

    @read()
    def view_queues(self, queues: list[QueueInfo]) -> list[QueueInfo]:
        """A shared `queues` read as this caller sees it: only the queues its key may access."""
        return [queue for queue in queues if self.may_access_queue(queue.name)]

    @read()
    @backend_call()
    def sight_job(self, job_id: str) -> JobSighting:
        """The job and its place, read once for every subscriber of its live stream; JobNotFound
        when it is gone (or, for a bound service, hidden from the key)."""
        validate_job_id(job_id)
        sighting = read_sighting(self.connection, job_id, self.serializer, self.default_queue)
        self.view_job(job_id, sighting)  # gone, or hidden from a bound key: JobNotFound
        return sighting

    @read()
    def view_job(self, job_id: str, sighting: JobSighting) -> JobInfo:
        """A shared sighting as this caller sees it: the job, if its key may see the job's queue
        (else JobNotFound, as for a missing job), its payloads hidden if configured."""
        authorise_job(self._principal, job_id, sighting.place, None, self.default_queue)
        if sighting.job is None:
            raise JobNotFound(job_id)
        return sighting.job

    # Several Redis instances (issue 14 item 3)
    @read()
    def check_caller(self) -> None:
        """Nothing but the guard's check that the caller is an authenticated viewer or more: for
        the instance list, and for binding an instance before its fields are read."""
