"""JobService: the one entry point both transports call. It validates input, talks to Redis
through RQ's key layout, and turns Redis failures into BackendUnavailable.

It is composed here of one mixin per feature (gateway/services/facade/), each holding that
feature's methods with their access declarations; facade/core.py holds the state and the
helpers they share. Every transport and test calls one class, `JobService`."""

from __future__ import annotations

import copy

from gateway.services.access import public
from gateway.services.facade.access_bound import AccessBound
from gateway.services.facade.actions import JobActions
from gateway.services.facade.control import OnCallControls
from gateway.services.facade.groups import FailureGroupActions
from gateway.services.facade.jobs import JobReads
from gateway.services.facade.live import LiveViews
from gateway.services.facade.monitoring import Monitoring
from gateway.services.facade.operations import TrackedOperations
from gateway.services.facade.queues import QueueViews
from gateway.services.facade.rq_views import RqViews
from gateway.services.facade.search import Search
from gateway.services.principal import RequestScope


class JobService(
    JobReads,
    JobActions,
    FailureGroupActions,
    QueueViews,
    AccessBound,
    TrackedOperations,
    Monitoring,
    Search,
    OnCallControls,
    RqViews,
    LiveViews,
):
    @public
    def scoped(self, scope: RequestScope) -> JobService:
        """This service for one request: shares the connection and state, carries the principal."""
        bound = copy.copy(self)
        bound.scope = scope
        return bound
