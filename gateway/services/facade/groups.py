"""Failure groups: the failed jobs grouped by cause, and retry or delete of one group."""

from __future__ import annotations

from gateway.errors import FailureGroupNotFound
from gateway.services.access import action, read
from gateway.services.domain.models import FailureGroups, GroupOutcome
from gateway.services.facade.actions import _done_jobs
from gateway.services.facade.core import ServiceCore
from gateway.services.principal import Role
from gateway.services.redis.backend import backend_call
from gateway.services.writes.failed_actions import FailedJobActions
from gateway.services.writes.groups import act_on_group, failure_groups, validate_group_id


class FailureGroupActions(ServiceCore):
    @read()
    @backend_call()
    def failure_groups(self, queue: str | None = None) -> FailureGroups:
        """The queue's failed jobs grouped by function, exception type and cause line (causes.py)."""
        groups = failure_groups(self.connection, self.queue_name(queue), self.serializer, self._own_jobs_only)
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
        actions = FailedJobActions(self.connection, name, self.serializer, dry_run, self._own_jobs_only)
        try:
            return act_on_group(actions, self.connection, self.serializer, name, group_id, retry, dry_run)
        except FailureGroupNotFound:
            self._known_if_empty(queue, True)
            raise
