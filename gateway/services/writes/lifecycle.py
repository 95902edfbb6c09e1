"""Cancel a waiting job and requeue a canceled or stopped one, leaving Redis as RQ would.

Cancel does what RQ's Job.cancel() does (status canceled, out of the queue list and its waiting
registry, into the CanceledJobRegistry scored by cancel time) in one Lua script whose claim is
the LREM/ZREM itself: a worker that dequeued the job first wins, and the cancel answers 409.
Requeue is RQ's registry requeue (BaseRegistry.requeue) through the same atomic script as a
failed-job retry: stopped jobs live in the failed registry, canceled ones in the canceled one.

Both act on the queue the access check resolved (the job's origin; the default queue only for a
job without one, which only unrestricted keys may act on), never on one read again here.
"""

from __future__ import annotations

from typing import Any, cast

from redis import Redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import CanceledJobRegistry, FailedJobRegistry

from gateway.errors import Conflict, JobNotFound
from gateway.services.domain.outcome import CancelCode, Outcome
from gateway.services.redis import damaged, keys, scripts
from gateway.services.redis.registry import now_timestamp
from gateway.services.writes.failed_actions import requeue_args, rq_requeue

CANCELABLE = ("queued", "deferred", "scheduled")
REQUEUEABLE = ("canceled", "stopped")


class Lifecycle:
    def __init__(self, connection: Redis, default_queue: str, serializer: Any) -> None:
        self._connection = connection
        self._default_queue = default_queue
        self._serializer = serializer
        self._cancel = connection.register_script(scripts.CANCEL)
        self._requeue = connection.register_script(scripts.REQUEUE)

    def _status(self, job_id: str) -> str:
        # A raw reply (the connection decodes nothing): bytes, or None when the field is absent.
        (status,) = cast("list[bytes | None]", self._connection.hmget(keys.job_key(job_id), "status"))
        if status is None and not self._connection.exists(keys.job_key(job_id)):
            raise JobNotFound(job_id)
        return damaged.shown(status) if status else ""

    def cancel(self, job_id: str, origin: str) -> None:
        """Cancel the job in `origin`, the queue the access check resolved for it."""
        status = self._status(job_id)
        if status not in CANCELABLE:
            raise _not_cancelable(job_id, status)
        code, status = self._cancel(
            keys=[
                keys.job_key(job_id),
                keys.queue_key(origin),
                keys.registry_key("deferred", origin),
                keys.registry_key("scheduled", origin),
                keys.registry_key("canceled", origin),
            ],
            args=[job_id, origin, self._default_queue, now_timestamp()],
        )
        status = damaged.shown(status) if isinstance(status, bytes) else status
        code = CancelCode(code)
        if code == CancelCode.CANCELED:
            return
        if code == CancelCode.GONE:
            raise JobNotFound(job_id)
        if code == CancelCode.RATE_LIMITED:
            return self._rq_cancel(job_id)
        if code == CancelCode.MOVED:
            # Its origin is no longer the one checked: not acted on; a new request checks again.
            raise Conflict(job_id, f"Job {job_id} moved to another queue meanwhile; try again")
        if status in CANCELABLE:
            taken = f"Job {job_id} is no longer {status}: a worker or another caller took it first"
            raise Conflict(job_id, taken)
        raise _not_cancelable(job_id, status)

    def _rq_cancel(self, job_id: str) -> None:
        try:
            Job.fetch(job_id, connection=self._connection, serializer=self._serializer).cancel()
        except NoSuchJobError:
            raise JobNotFound(job_id) from None
        except InvalidJobOperation:
            raise _not_cancelable(job_id, "canceled") from None

    def requeue(self, job_id: str, origin: str) -> None:
        """Requeue the job from the registry of `origin`, the queue the access check resolved."""
        status = self._status(job_id)
        if status not in REQUEUEABLE:
            state = status or "in no known state"
            raise Conflict(job_id, f"Job {job_id} is {state}; only canceled or stopped jobs can be requeued")
        state = "canceled" if status == "canceled" else "failed"
        registry = keys.registry_key(state, origin)
        # Canceled entries are scored by cancel time and never expire: -1 makes every one live.
        now = -1 if state == "canceled" else now_timestamp()
        seen = keys.history_seen_key(state, origin)  # the history keeps failed and finished only
        (code,) = self._requeue(keys=[registry, seen], args=requeue_args(now, origin, [job_id]))
        code = Outcome(code)
        if code == Outcome.RATE_LIMITED:
            registry_class = CanceledJobRegistry if state == "canceled" else FailedJobRegistry
            rq_registry = registry_class(origin, connection=self._connection, serializer=self._serializer)
            code = rq_requeue(rq_registry, job_id)
            if code == Outcome.DONE:  # as requeue.lua does for the jobs it takes
                self._connection.zrem(seen, job_id)
        if code == Outcome.ORPHAN:
            raise JobNotFound(job_id)
        if code != Outcome.REQUEUED:
            raise Conflict(job_id, f"Job {job_id} is no longer {status}: another caller requeued it first")


def _not_cancelable(job_id: str, status: str) -> Conflict:
    state = status or "in no known state"
    return Conflict(
        job_id, f"Job {job_id} is {state}; only queued, deferred or scheduled jobs can be canceled"
    )
