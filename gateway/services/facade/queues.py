"""Queues and workers: a queue's counts, every queue, one queue, the workers, RQ's registry
cleanup of a queue, and emptying a queue (`rq empty`)."""

from __future__ import annotations

from gateway.services.access import action, note_acted, read
from gateway.services.domain.models import CleanupOutcome, EmptyOutcome, QueueInfo, QueueStats, WorkerInfo
from gateway.services.domain.validation import validate_queue_name
from gateway.services.facade.core import ServiceCore
from gateway.services.principal import Role
from gateway.services.reads.queues import get_queue, list_queues
from gateway.services.reads.stats import queue_stats
from gateway.services.reads.workers import list_workers, workers_seen_by
from gateway.services.redis.backend import backend_call
from gateway.services.writes.cleanup import cleanup_queue
from gateway.services.writes.empty_queue import empty_queue


class QueueViews(ServiceCore):
    @read()
    @backend_call()
    def stats(self, queue: str | None = None) -> QueueStats:
        return queue_stats(self.connection, self.queue_name(queue), must_exist=queue is not None)

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
        """Every worker; a key limited to queue patterns sees only its queues' (workers_seen_by)."""
        workers = list_workers(self.connection)
        if not self._restricted:
            return workers
        return workers_seen_by(self.connection, workers, self.may_access_queue)

    @action("cleanup", Role.ADMIN, queue_arg="name")
    @backend_call()
    def cleanup_queue(self, name: str) -> CleanupOutcome:
        """MUTATES: runs RQ's registry cleanup on the queue (expired entries are removed and
        abandoned started jobs move to the failed registry)."""
        outcome = cleanup_queue(self.connection, validate_queue_name(name), self.serializer)
        self._known_if_empty(name, not outcome.total_removed)
        return outcome

    @action("empty", Role.ADMIN, queue_arg="name")
    @backend_call()
    def empty_queue(self, name: str, dry_run: bool = False) -> EmptyOutcome:
        """MUTATES: deletes every job waiting in the queue with its keys, as `rq empty` does, a
        chunk at a time; a dry run counts them. The audit record counts the jobs and lists none
        (a queue may hold millions), also those deleted before a failure."""
        outcome = empty_queue(self.connection, validate_queue_name(name), dry_run, progress=note_acted)
        self._known_if_empty(name, not outcome.deleted_count)
        return outcome
