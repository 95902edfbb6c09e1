"""JobService: the one entry point both transports call. It validates input, talks to Redis
through RQ's key layout, and turns Redis failures into BackendUnavailable."""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Any

import redis
from rq.serializers import resolve_serializer

from gateway.errors import (
    FailedJobNotFound,
    InvalidParameter,
    JobDataGone,
    JobNotFound,
    JobUnreadable,
    QueueKeyDamaged,
)
from gateway.services import keys
from gateway.services.access import JOB_ORIGIN, RequestScope, Role, action, public, read
from gateway.services.actions import (
    DELETED,
    NOT_IN_REGISTRY,
    ORPHAN,
    QUEUE_DAMAGED,
    REQUEUED,
    RETRY_ERRORS,
    UNREADABLE,
    FailedJobActions,
    run_bulk,
)
from gateway.services.audit import AuditPage, read_audit
from gateway.services.backend import BackendHealth, backend_call
from gateway.services.browse import Browser, check_page_args
from gateway.services.bulk import FilteredChunks, run_selected
from gateway.services.cleanup import cleanup_queue
from gateway.services.filtered import FilteredView, filtered_list, filtered_page
from gateway.services.filters import FailedJobFilter
from gateway.services.groups import act_on_group, failure_groups, validate_group_id
from gateway.services.lifecycle import Lifecycle
from gateway.services.locate import fetch_located_job
from gateway.services.models import (
    BulkOutcome,
    CleanupOutcome,
    FailureGroups,
    GroupOutcome,
    JobInfo,
    JobPage,
    QueueInfo,
    QueueStats,
    RetryOutcome,
    WorkerInfo,
)
from gateway.services.queues import get_queue, list_queues
from gateway.services.reads import fetch_jobs
from gateway.services.registry import RegistryReader, decode_cursor
from gateway.services.stats import queue_stats
from gateway.services.validation import validate_job_id, validate_queue_name
from gateway.services.workers import list_workers

MAX_PAGE_SIZE = 1000


def _done_jobs(outcome: BulkOutcome) -> list[str]:
    return outcome.done_jobs


class JobService:
    def __init__(self, connection: redis.Redis, default_queue: str = "default", serializer: Any = None):
        self.connection = connection
        self.default_queue = validate_queue_name(default_queue)
        self.serializer = resolve_serializer(serializer)
        self._reader = RegistryReader(connection)
        self.health = BackendHealth()

    @public
    def queue_name(self, queue: str | None = None) -> str:
        return validate_queue_name(queue if queue is not None else self.default_queue)

    def _actions(self, queue: str | None, dry_run: bool = False) -> FailedJobActions:
        return FailedJobActions(self.connection, self.queue_name(queue), self.serializer, dry_run)

    @public
    @backend_call(probe=True)
    def ping(self) -> bool:
        return bool(self.connection.ping())

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
        if offset < 0:
            raise InvalidParameter("offset must be 0 or more")
        if limit is not None and limit < 0:
            raise InvalidParameter("limit must be 0 or more")
        name = self.queue_name(queue)
        if job_filter is not None and not job_filter.is_empty:
            return filtered_list(self._view(name, job_filter), offset, limit)
        _, entries = self._reader.slice(keys.registry_key("failed", name), offset, limit)
        return fetch_jobs(
            self.connection, [e.job_ref for e in entries], self.serializer, name, in_failed_registry=True
        )

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
            if first < 0 or first > MAX_PAGE_SIZE:
                raise InvalidParameter(f"first must be between 0 and {MAX_PAGE_SIZE}")
            cursor = decode_cursor(after) if after else None
            view = self._view(self.queue_name(queue), job_filter)
            return filtered_page(view, first, cursor, with_results, with_total)
        return self.queue_jobs(queue, "failed", first, after, "asc", with_results)

    @read()
    @backend_call()
    def get_job(self, job_id: str, with_results: bool = True) -> JobInfo:
        validate_job_id(job_id)
        job = fetch_located_job(
            self.connection, job_id, self.serializer, self.default_queue, with_results=with_results
        )
        if job is None:
            raise JobNotFound(job_id)
        return job

    @read()
    @backend_call()
    def stats(self, queue: str | None = None) -> QueueStats:
        return queue_stats(self.connection, self.queue_name(queue))

    @action("retry", Role.OPERATOR)
    @backend_call()
    def retry(self, job_id: str, queue: str | None = None) -> RetryOutcome:
        validate_job_id(job_id)
        (code,) = self._actions(queue).requeue([job_id])
        if code == ORPHAN:
            raise JobDataGone(job_id)
        if code == UNREADABLE:
            raise JobUnreadable(job_id)
        if code == QUEUE_DAMAGED:
            raise QueueKeyDamaged(job_id)
        if code != REQUEUED:
            raise FailedJobNotFound(job_id)
        return RetryOutcome(job_id=job_id, message=f"Job {job_id} has been requeued successfully")

    @action("delete", Role.ADMIN)
    @backend_call()
    def delete(self, job_id: str, queue: str | None = None) -> RetryOutcome:
        validate_job_id(job_id)
        (code,) = self._actions(queue).delete([job_id])
        if code == NOT_IN_REGISTRY:
            raise FailedJobNotFound(job_id)
        return RetryOutcome(job_id=job_id, message=f"Job {job_id} has been deleted successfully")

    @action("retry_all", Role.OPERATOR, ids_from_result=_done_jobs)
    @backend_call()
    def retry_all(
        self, queue: str | None = None, job_filter: FailedJobFilter | None = None, dry_run: bool = False
    ) -> BulkOutcome:
        actions = self._actions(queue, dry_run)
        return run_bulk(
            self._bulk_source(actions, queue, job_filter), actions.requeue, RETRY_ERRORS, REQUEUED
        )

    @action("clear", Role.ADMIN, ids_from_result=_done_jobs)
    @backend_call()
    def clear(
        self, queue: str | None = None, job_filter: FailedJobFilter | None = None, dry_run: bool = False
    ) -> BulkOutcome:
        actions = self._actions(queue, dry_run)
        return run_bulk(self._bulk_source(actions, queue, job_filter), actions.delete, {}, DELETED)

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
        first with order "asc". See services/browse.py for how cursors stay stable."""
        check_page_args(state, order, first, MAX_PAGE_SIZE)
        return self._browser.page(self.queue_name(queue), state, first, after, order, with_results)

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
        return cleanup_queue(self.connection, validate_queue_name(name), self.serializer)

    @read()
    @backend_call()
    def failure_groups(self, queue: str | None = None) -> FailureGroups:
        """The queue's failed jobs grouped by function, exception type and normalized last line."""
        return failure_groups(self.connection, self.queue_name(queue), self.serializer)

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
        return act_on_group(actions, self.connection, self.serializer, name, group_id, retry, dry_run)

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
        return run_selected(job_ids, actions.requeue, RETRY_ERRORS, REQUEUED)

    @action("delete_selected", Role.ADMIN)
    @backend_call()
    def delete_selected(self, job_ids: list[str], queue: str | None = None) -> BulkOutcome:
        """Delete the given failed jobs, each once; ids not in the failed registry are errors."""
        actions = self._actions(queue)
        return run_selected(job_ids, actions.delete, {}, DELETED)

    @action("cancel", Role.OPERATOR, queue_arg=JOB_ORIGIN)
    @backend_call()
    def cancel(self, job_id: str) -> RetryOutcome:
        """Cancel a queued, deferred or scheduled job, atomically against workers dequeuing it."""
        validate_job_id(job_id)
        Lifecycle(self.connection, self.default_queue, self.serializer).cancel(job_id)
        return RetryOutcome(job_id=job_id, message=f"Job {job_id} has been canceled successfully")

    @action("requeue", Role.OPERATOR, queue_arg=JOB_ORIGIN)
    @backend_call()
    def requeue(self, job_id: str) -> RetryOutcome:
        """Requeue a canceled or stopped job on its origin queue, as RQ's registry requeue does."""
        validate_job_id(job_id)
        Lifecycle(self.connection, self.default_queue, self.serializer).requeue(job_id)
        return RetryOutcome(job_id=job_id, message=f"Job {job_id} has been requeued successfully")

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

    @backend_call()
    def _origin_of(self, job_id: str) -> str | None:
        """The queue a job belongs to, for the access check of operations named by job id only."""
        validate_job_id(job_id)
        origin = self.connection.hget(keys.job_key(job_id), "origin")
        return origin.decode(errors="replace") if origin else None

    @read(Role.ADMIN)
    @backend_call()
    def audit_log(self, first: int = 100, after: str | None = None) -> AuditPage:
        """The audit trail, newest first, a page at a time."""
        if first < 0 or first > MAX_PAGE_SIZE:
            raise InvalidParameter(f"first must be between 0 and {MAX_PAGE_SIZE}")
        return read_audit(self.connection, first, after)
