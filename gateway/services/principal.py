"""Who the caller is: roles, the principal of one request (its key's name, role and queue
patterns, or why it was refused) and the request scope a service is bound to. access.py's guard
checks calls against them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from fnmatch import fnmatchcase

from gateway.errors import BackendUnavailable
from gateway.services.audit import AuditTrail
from gateway.services.redis.origins import JobPlace
from gateway.services.refusals import RefusalOnce


class Role(IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Principal:
    """The caller of one request. `role` is None when the request failed authentication, and
    `refusal` says why; the refusal is raised only when the request calls a guarded method, so
    REST and GraphQL audit it the same way."""

    name: str
    role: Role | None
    queues: tuple[str, ...] = ()  # fnmatch patterns; empty = every queue
    refusal: str = ""

    def may_access_queue(self, queue: str) -> bool:
        return not self.queues or any(fnmatchcase(queue, pattern) for pattern in self.queues)

    def may_see_job(self, place: JobPlace) -> bool:
        """A job whose queue is unknown is in no pattern: only unrestricted keys see it."""
        return not self.queues or (place.queue is not None and self.may_access_queue(place.queue))


# Served when no keys are configured (loopback, demo mode or --allow-anonymous).
ANONYMOUS = Principal(name="anonymous", role=Role.ADMIN)


@dataclass(frozen=True)
class RequestScope:
    """What a service bound to one request knows about it."""

    principal: Principal
    request_id: str
    audit: AuditTrail | None = None
    hide_payloads: bool = False
    unauthenticated: RefusalOnce = field(default_factory=RefusalOnce, compare=False, repr=False)
    # The Redis instances the key may see, by name (None: every one). Its requests can still
    # reach another instance's Redis (the audit trail lives in the default instance, which also
    # answers requests naming none), and that instance's outage must not tell the key its name.
    instances: frozenset[str] | None = None

    def seen_outage(self, error: BackendUnavailable) -> BackendUnavailable:
        """`error` as this caller may read it: without the name of an instance it may not see."""
        if error.instance is None or self.instances is None or error.instance in self.instances:
            return error
        return error.unnamed()

    @property
    def hides_payloads(self) -> bool:
        """Whether results for this request pass through `hide_payloads` (viewers, when configured)."""
        return self.hide_payloads and self.principal.role == Role.VIEWER
