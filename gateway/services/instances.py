"""Several Redis instances behind one gateway: one JobService per instance, looked up by name.

The first instance is the default, which serves every request that names none, so the published
contract is unchanged on it. API key queue patterns of the form `INSTANCE:QUEUE` apply to that
instance only (when INSTANCE is a configured instance's name); plain patterns apply to every
instance. To a key whose patterns allow no queue of an instance, that instance's name is as
unknown as a name of none (`service_for`), so the configured names cannot be probed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.errors import BackendUnavailable, InstanceNotFound
from gateway.services.principal import Principal
from gateway.services.service import JobService

log = logging.getLogger("rq_gateway.access")

# A queue pattern no queue name matches (names never hold control characters): a key whose
# patterns all name other instances may access no queue of this one, which an empty tuple
# (every queue) would not say.
NO_QUEUE = "\x00"


@dataclass(frozen=True)
class InstanceHealth:
    name: str
    healthy: bool
    # Why it is not, in the words of its 503 (None when healthy).
    reason: str | None = None


class Instances:
    """The gateway's Redis instances by name, the default first."""

    def __init__(self, services: Mapping[str, JobService]):
        if not services:
            raise ValueError("at least one Redis instance is needed")
        self._services = dict(services)
        self.names: tuple[str, ...] = tuple(self._services)
        self.default = self.names[0]
        self.several = len(self.names) > 1

    def services(self) -> list[JobService]:
        """Every instance's (unbound) service, the default first."""
        return list(self._services.values())

    def service(self, name: str | None) -> JobService:
        """The (unbound) service of instance `name`; None is the default instance."""
        if name is None:
            return self._services[self.default]
        try:
            return self._services[name]
        except KeyError:
            raise InstanceNotFound(name) from None

    def service_for(self, principal: Principal, name: str | None) -> JobService:
        """`service(name)` as `principal` may ask for it: an instance named to a key that may
        access none of its queues is InstanceNotFound, exactly as a name of no instance is (the
        same 404 and `detail`, GraphQL NOT_FOUND, websocket close reason). Without a name, the
        default instance answers every request, and refuses queue by queue."""
        service = self.service(name)
        if name is not None and not self.may_access(principal, name):
            # The client sees an unknown name; the operator's log says what happened.
            log.warning(
                "API key %r named Redis instance %r, where its queue patterns allow no queue; "
                "answered as not configured",
                principal.name,
                name,
            )
            raise InstanceNotFound(name)
        return service

    def health(self, names: Iterable[str] | None = None) -> list[InstanceHealth]:
        """Each instance asked in turn: one that is down is reported, never raised."""
        report = []
        for name in self.names if names is None else names:
            try:
                self._services[name].ping()
            except BackendUnavailable as error:
                report.append(InstanceHealth(name, False, error.message))
            else:
                report.append(InstanceHealth(name, True))
        return report

    def principal_for(self, principal: Principal, instance: str) -> Principal:
        """The principal as seen on one instance: its plain patterns, and those of its
        `INSTANCE:QUEUE` patterns that name this instance (without the prefix)."""
        if not principal.queues:
            return principal
        patterns = []
        for pattern in principal.queues:
            prefix, colon, rest = pattern.partition(":")
            if colon and prefix in self._services:
                if prefix == instance:
                    patterns.append(rest)
            else:
                patterns.append(pattern)
        return dataclasses.replace(principal, queues=tuple(patterns) or (NO_QUEUE,))

    def visible_to(self, principal: Principal) -> frozenset[str] | None:
        """The names of the instances the key may access (None: every one, without patterns)."""
        if not principal.queues:
            return None
        return frozenset(name for name in self.names if self.may_access(principal, name))

    def may_access(self, principal: Principal, instance: str) -> bool:
        """Whether the key may access any queue of the instance (for listing instances)."""
        return self.principal_for(principal, instance).queues != (NO_QUEUE,)
