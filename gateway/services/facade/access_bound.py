"""What the bound caller may read about access itself: the audit trail (filtered by its queue
patterns), who it is (the console, issue 11), and the bare check of several instances (issue 14)."""

from __future__ import annotations

from dataclasses import replace

from gateway.services.access import read
from gateway.services.audit import AuditEntry, AuditPage, read_audit
from gateway.services.domain.caller import CallerInfo
from gateway.services.domain.validation import validate_page_size
from gateway.services.facade.operations import TrackedOperations
from gateway.services.principal import ANONYMOUS, Role
from gateway.services.redis.backend import backend_call, call_on


class AccessBound(TrackedOperations):
    """Built on TrackedOperations: an operation's finish record counts the jobs as the caller's
    view of that operation does (_acted_seen)."""

    @read(Role.ADMIN)
    @backend_call()
    def audit_log(self, first: int = 100, after: str | None = None) -> AuditPage:
        """The audit trail, newest first, a page at a time. A queue-limited key reads only the
        records of queues it may access (on this instance, when the gateway serves several): not
        those of other queues or instances, nor queue-less ones."""
        validate_page_size(first)
        # The trail the mutations were written to: the default instance's, whichever instance
        # this service reads (several Redis instances keep one trail), read under that
        # instance's health: its outage is its own 503, not this instance's.
        audit = self.scope.audit if self.scope is not None else None
        trail = audit.connection if audit is not None else self.connection
        health = audit.health if audit is not None and audit.health is not None else self.health
        if self.scope is None or not self.scope.principal.queues:
            return call_on(health, "audit_log", lambda: read_audit(trail, first, after))
        visible = self.scope.principal.may_access_queue
        # A queue-limited key of a gateway with several instances reads this instance's records
        # only (its patterns were bound to this instance; the trail holds every instance's).
        page = call_on(
            health,
            "audit_log",
            lambda: read_audit(
                trail,
                first,
                after,
                lambda queue: isinstance(queue, str) and visible(queue),
                self.health.instance,
            ),
        )
        # A record of its queue may name another queue's jobs (an unrestricted key's selected
        # action naming them): their ids are left out, as everywhere (this instance's jobs), and
        # so is their count. The ids a key named itself are its own to see (they answered it as
        # missing ones do).
        name = self.scope.principal.name
        others = [entry for entry in page.entries if entry.key != name]
        hidden = self._unseen([i for entry in others for i in entry.job_ids])
        # An operation's finish counts the jobs it acted on and names none: counted as the
        # caller's view of the operation counts them (operations/seen.py).
        finish_records = [e for e in others if _is_finish(e)]
        acted = self._acted_seen([str(e.operation_id) for e in finish_records])
        finishes = {e.cursor: _finish_count(e, acted) for e in finish_records}
        if not hidden and all(finishes.get(e.cursor, e.job_count) == e.job_count for e in others):
            return page
        entries = [
            e
            if e.key == name
            else _without(replace(e, job_count=finishes.get(e.cursor, e.job_count)), hidden)
            for e in page.entries
        ]
        return replace(page, entries=entries)

    @read()
    def caller(self) -> CallerInfo:
        """The caller's key name, role and queue patterns; a missing or bad key is refused as
        by every read, which is how a client learns that it must ask for a key."""
        principal = self._principal or ANONYMOUS
        role = principal.role.label if principal.role is not None else ""
        hidden = self.scope is not None and self.scope.hides_payloads
        return CallerInfo(principal.name, role, principal.queues, payloads_hidden=hidden)

    @read()
    def check_caller(self) -> None:
        """Nothing but the guard's check that the caller is an authenticated viewer or more: for
        the instance list, and for binding an instance before its fields are read."""


def _finish_count(entry: AuditEntry, acted_seen: dict[str, int]) -> int:
    """The job_count of another key's operation finish, as the caller may read it: its view of
    the operation's `acted` (`acted_seen`, by operation id); once the operation is no longer kept,
    the recorded count only for a walk of the registry (whose entries the caller's listing shows),
    else 0, since which named jobs it acted on is no longer known (README "Audit trail")."""
    seen = acted_seen.get(str(entry.operation_id))
    if seen is not None:
        return seen
    return entry.job_count if entry.selector_kind not in (None, "job_ids") else 0


def _is_finish(entry: AuditEntry) -> bool:
    return entry.operation_id is not None and entry.action.endswith(".finish")


def _without(entry: AuditEntry, hidden: set[str]) -> AuditEntry:
    """The record without the ids `hidden`, in its ids and its `job_count`. The count's ids are
    the first of its list (a replay lists the job replayed, counted, then the job it made); a
    record of more than IDS_SHOWN ids keeps only those, so the ones beyond, which no reader sees,
    stay counted (README "Audit trail")."""
    counted = sum(1 for job_id in entry.job_ids[: entry.job_count] if job_id in hidden)
    return replace(
        entry,
        job_ids=[job_id for job_id in entry.job_ids if job_id not in hidden],
        job_count=entry.job_count - counted,
    )
