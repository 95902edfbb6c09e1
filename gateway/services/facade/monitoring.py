"""Monitoring (issue 12): RQ's gauges for /metrics, one read per second whatever the scrapers,
and a queue's per-minute history."""

from __future__ import annotations

from datetime import datetime, timezone

from gateway.services.access import read
from gateway.services.domain.gauges import RqSnapshot
from gateway.services.domain.validation import validate_queue_name
from gateway.services.facade.core import ServiceCore
from gateway.services.history.models import QueueHistory
from gateway.services.history.read import MAX_MINUTES, history_range, read_history
from gateway.services.reads.workers import workers_seen_by
from gateway.services.redis.backend import backend_call


class Monitoring(ServiceCore):
    @read()
    @backend_call()
    def rq_snapshot(self) -> RqSnapshot:
        """Every queue's counts and head-job age and every live worker, in three round trips
        and no writes (services/reads/snapshot.py), shared by every caller of one second. A key
        limited to queue patterns sees them as `queues` and `workers` show them: only its queues,
        and only the workers listening to one (reads/workers.py, one round trip more when such a
        worker is busy)."""
        snapshot = self._snapshots.get()
        if not self._restricted:
            return snapshot
        return RqSnapshot(
            queues=[queue for queue in snapshot.queues if self.may_access_queue(queue.stats.queue_name)],
            workers=workers_seen_by(self.connection, snapshot.workers, self.may_access_queue),
        )

    @read(queue_arg="name")
    @backend_call()
    def queue_history(
        self,
        name: str,
        since: str | None = None,
        until: str | None = None,
        step: int = 1,
        left: int = MAX_MINUTES,
    ) -> QueueHistory:
        """The queue's per-minute history (services/history) in buckets of `step` minutes from
        `since` to `until` (ISO 8601; by default the last hour). QueueNotFound as other reads.
        `left`: the minutes the request may still read (history_range)."""
        first, minutes = history_range(since, until, step, datetime.now(timezone.utc), left)
        return read_history(self.connection, validate_queue_name(name), first, minutes, step)
