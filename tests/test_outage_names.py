"""An outage's 503 names its Redis instance only to keys that may see it (README "Several Redis
instances"): the guard every service call goes through drops the name for a key whose patterns
allow no queue of that instance. Over every read that takes no argument, so a new one cannot
forget it; the real instances, REST, GraphQL and subscriptions: tests/realredis/
test_instance_outage_names.py."""

from __future__ import annotations

import inspect

import pytest

from gateway.errors import BackendUnavailable
from gateway.services import JobService
from gateway.services.access import access_of
from gateway.services.principal import Principal, RequestScope, Role


def _reads_without_arguments() -> list[str]:
    names = []
    for name, member in inspect.getmembers(JobService, inspect.isfunction):
        access = access_of(member)
        if access is None or access.role is None or access.audited:
            continue
        parameters = list(inspect.signature(member).parameters.values())[1:]
        if all(p.default is not inspect.Parameter.empty for p in parameters):
            names.append(name)
    return names


READS = _reads_without_arguments()
# Reads that answer without Redis (the caller's own key; a live stream's check before it starts).
NO_REDIS = {"caller", "check_caller", "live_queue"}


def test_the_reads_are_found():
    assert {"queues", "workers", "audit_log", "operations", "cron"} <= set(READS)


@pytest.mark.parametrize("name", READS)
@pytest.mark.parametrize("seen", [frozenset({"b"}), frozenset({"b", "hidden"}), None])
def test_a_read_during_an_outage_names_the_instance_only_to_keys_that_may_see_it(conn, name, seen):
    service = JobService(conn, instance="hidden")
    service.health.failed()  # every call now fails fast, naming the instance
    scope = RequestScope(Principal("k", Role.ADMIN, ("*",) if seen else ()), "r", instances=seen)
    try:
        getattr(service.scoped(scope), name)()
    except BackendUnavailable as error:
        named = seen is None or "hidden" in seen
        assert ("'hidden'" in error.message) is named, error.message
        assert error.message.endswith("Redis is unavailable; try again shortly")
    else:
        assert name in NO_REDIS, name
