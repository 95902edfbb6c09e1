"""Actions on jobs: retry or delete one failed job, all of them (filtered, or as a dry run) or
the selected ones; cancel a waiting job, requeue a canceled or stopped one (issue 4)."""

from __future__ import annotations

from gateway.errors import FailedJobNotFound
from gateway.services.access import action
from gateway.services.domain.failed_job_filter import FailedJobFilter
from gateway.services.domain.models import BulkOutcome, JobActionOutcome
from gateway.services.domain.outcome import RETRY_ERRORS, RETRY_REFUSALS, Outcome
from gateway.services.domain.validation import validate_job_id
from gateway.services.facade.core import ServiceCore
from gateway.services.principal import Role
from gateway.services.redis.backend import backend_call
from gateway.services.writes.failed_actions import FailedJobActions, run_bulk
from gateway.services.writes.lifecycle import Lifecycle
from gateway.services.writes.selection import FilteredChunks, run_selected, selected_ids
from gateway.services.writes.streamed_bulk import act_on_all


def _done_jobs(outcome: BulkOutcome) -> list[str]:
    return outcome.done_jobs


class JobActions(ServiceCore):
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
        if job_filter is None or job_filter.is_empty:
            outcome = act_on_all(self.connection, actions, True, RETRY_ERRORS, Outcome.REQUEUED)
        else:
            outcome = run_bulk(
                self._matching(queue, job_filter), actions.requeue, RETRY_ERRORS, Outcome.REQUEUED
            )
        self._known_if_empty(queue, not outcome.total_failed)
        return outcome

    @action("clear", Role.ADMIN, ids_from_result=_done_jobs)
    @backend_call()
    def clear(
        self, queue: str | None = None, job_filter: FailedJobFilter | None = None, dry_run: bool = False
    ) -> BulkOutcome:
        actions = self._actions(queue, dry_run)
        if job_filter is None or job_filter.is_empty:
            outcome = act_on_all(self.connection, actions, False, {}, Outcome.DELETED)
        else:
            outcome = run_bulk(self._matching(queue, job_filter), actions.delete, {}, Outcome.DELETED)
        self._known_if_empty(queue, not outcome.total_failed)
        return outcome

    def _matching(self, queue: str | None, job_filter: FailedJobFilter) -> FilteredChunks:
        """What run_bulk walks for a filter: only the registry's entries matching it."""
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
