"""The gateway's one error tree. Every transport maps these classes once.

    GatewayError                  base; never raised itself
    ├── NotFound                  the thing asked for does not exist
    │   ├── JobNotFound           no job hash under that id (status, lookups)
    │   ├── FailedJobNotFound     the id is not in the queue's failed registry
    │   ├── JobDataGone           the id is in the failed registry but its job hash is gone (orphan)
    │   ├── JobInOtherQueue       the job exists, but in another queue than the one the call named
    │   ├── QueueNotFound         RQ does not know the queue and it has no jobs or workers
    │   ├── WorkerNotFound        no live worker of that name
    │   ├── JobGroupNotFound      no RQ job group of that name
    │   ├── FailureGroupNotFound  no failed job of the queue is in that failure group (now)
    │   ├── OperationNotFound     no tracked operation with that id (or on a queue the key may not see)
    │   └── InstanceNotFound      `?instance=` / `instance(name:)` names no configured Redis instance
    ├── InvalidInput              the request can never succeed as written
    │   ├── InvalidJobId          the id is not one RQ could have produced
    │   ├── InvalidParameter      a bad query parameter or argument (queue name, limit, cursor...)
    │   │   └── InvalidQuery      a search query that does not parse; says at which position
    │   └── JobUnreadable         the job's data cannot be read, so RQ cannot requeue it
    ├── Conflict                  the job exists but its state does not allow the action
    │   ├── QueueKeyDamaged       the job's queue key holds another Redis type: nothing written
    │   └── WorkerNotListening    a command found no worker listening (it died unregistered)
    ├── BackendUnavailable        Redis did not answer in time or refused the connection
    ├── Unauthenticated           keys are configured and the request has no valid API key
    ├── Forbidden                 the API key's role or queue patterns do not allow the action
    └── LimitExceeded             a live-update limit: too many subscriptions, or a subscriber
                                  that fell behind its stream

Messages are written for API clients: they never contain Redis keys or RQ's own texts.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the service layer raises on purpose."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(GatewayError):
    """Raised when the job, or its entry in a registry, does not exist."""


class JobNotFound(NotFound):
    """Raised when no job with the id exists."""

    def __init__(self, job_id: str):
        super().__init__(f"Job {job_id} not found")
        self.job_id = job_id


class FailedJobNotFound(NotFound):
    """Raised when a failed-job operation names an id that is not in the failed registry."""

    def __init__(self, job_id: str):
        super().__init__(f"Job {job_id} not found in failed jobs registry")
        self.job_id = job_id


class JobDataGone(NotFound):
    """Raised when a failed-registry entry has no job hash left, so it cannot be retried."""

    reason = "Job data is gone (expired or deleted); it cannot be retried, only deleted"

    def __init__(self, job_id: str):
        super().__init__(f"Job {job_id} is in the failed jobs registry but its data is gone: {self.reason}")
        self.job_id = job_id


class JobInOtherQueue(NotFound):
    """Raised when a call names a queue and the job belongs to another one. Raised only where
    the caller's key may see the job's queue; otherwise the job answers as if it did not exist."""

    def __init__(self, job_id: str, queue_name: str, actual_queue: str):
        super().__init__(f"Job {job_id} not found in queue {queue_name!r}: it is in queue {actual_queue!r}")
        self.job_id = job_id
        self.queue_name = queue_name
        self.actual_queue = actual_queue


class FailureGroupNotFound(NotFound):
    """Raised when a group action finds no current member of the group in the failed registry."""

    def __init__(self, group_id: str, queue_name: str):
        super().__init__(f"Failure group {group_id} has no failed jobs in queue {queue_name!r}")
        self.group_id = group_id


class OperationNotFound(NotFound):
    """Raised when no tracked operation has the id, or it acts on a queue the key may not see."""

    def __init__(self, operation_id: str):
        super().__init__(f"Operation {operation_id} not found")
        self.operation_id = operation_id


class InstanceNotFound(NotFound):
    """Raised when a request names a Redis instance the gateway is not configured with."""

    def __init__(self, name: str):
        shown = name if len(name) <= 64 else name[:64] + "..."
        super().__init__(f"Redis instance {shown!r} is not configured")
        self.name = name


class InvalidInput(GatewayError):
    """Raised when the request is malformed and can never succeed as written."""


class InvalidJobId(InvalidInput):
    """Raised for ids that RQ could never have produced; Redis is not touched."""

    def __init__(self, job_id: str):
        shown = job_id if len(job_id) <= 64 else job_id[:64] + "..."
        super().__init__(
            f"Invalid job id {shown!r}: job ids contain only letters, digits, '-' and '_' "
            "and are at most 512 characters long"
        )
        self.job_id = job_id


class InvalidParameter(InvalidInput):
    """Raised for a bad parameter such as a queue name, a limit or a cursor."""


class InvalidQuery(InvalidParameter):
    """Raised when a search query cannot be parsed; `position` is where (0-based)."""

    def __init__(self, position: int, problem: str):
        super().__init__(f"Invalid search query at position {position}: {problem}")
        self.position = position


class JobUnreadable(InvalidInput):
    """Raised when RQ itself cannot load a job it would have to requeue (e.g. corrupt fields)."""

    reason = (
        "Job data cannot be read by RQ (corrupt fields, or an id or origin queue name that is not "
        "UTF-8 text), so it cannot be requeued; inspect it, then delete it"
    )

    def __init__(self, job_id: str):
        super().__init__(f"Job {job_id}: {self.reason}")
        self.job_id = job_id


class BackendUnavailable(GatewayError):
    """Raised when Redis is unreachable, refuses, or does not answer within the timeout."""

    retry_after_seconds = 5

    def __init__(self, message: str = "Redis is unavailable; try again shortly", instance: str | None = None):
        # With several instances the message names the one down, so a client can tell which;
        # `reason` is the message without that name, for callers that may not see the instance.
        super().__init__(message if instance is None else f"Redis instance {instance!r}: {message}")
        self.instance = instance
        self.reason = message

    def unnamed(self) -> BackendUnavailable:
        """The same outage without the instance's name (RequestScope.seen_outage)."""
        return self if self.instance is None else BackendUnavailable(self.reason)


class QueueNotFound(NotFound):
    """Raised when a request names a queue that is not in RQ's set of queues and of which nothing
    exists in Redis (no queue or registry key, no listening worker)."""

    def __init__(self, queue_name: str):
        super().__init__(f"Queue {queue_name!r} not found")
        self.queue_name = queue_name


class Conflict(GatewayError):
    """Raised when the job exists but is in a state the action does not apply to (cancel a
    finished job, requeue a queued one), or left that state while the action ran."""

    def __init__(self, job_id: str | None, message: str):
        super().__init__(message)
        self.job_id = job_id


class QueueKeyDamaged(Conflict):
    """Raised when a job would be requeued onto a queue whose Redis key is not a list."""

    reason = "its queue is damaged (not a Redis list), so nothing was written; repair that queue first"

    def __init__(self, job_id: str):
        super().__init__(job_id, f"Job {job_id}: {self.reason}")


class CleanupBlocked(Conflict):
    """Raised when RQ's cleanup cannot run on a queue's data: a registry (or another key it reads)
    of another Redis type than RQ writes, or a rate-limit key name that is not UTF-8. `damaged`
    names the queue's registries found so before anything was cleaned; empty when RQ's cleanup
    itself met the damage on its way."""

    def __init__(self, queue_name: str, damaged: tuple[str, ...] = ()):
        if damaged:
            noun = "registry holds" if len(damaged) == 1 else "registries hold"
            where = f"its {', '.join(damaged)} {noun} data of another type than RQ's"
            message = f"Queue {queue_name!r} was not cleaned up: {where}; repair or delete it first"
        else:
            message = (
                f"RQ's cleanup of queue {queue_name!r} stopped on damaged data it cannot read (a "
                "registry or rate-limit key of another type, a name that is not UTF-8); what it "
                "removed before that stays removed"
            )
        super().__init__(None, message)
        self.queue_name = queue_name


class DataDamaged(Conflict):
    """Raised when Redis holds a key of the wrong type where a call needs RQ's data (a job hash
    that is a string, a workers set that is a list) and the call reads it with a single command
    or a script: damaged data, neither an outage nor a bug. Read pipelines read such keys as
    absent instead (services/redis/damaged.py)."""

    def __init__(self) -> None:
        super().__init__(
            None,
            "Redis holds data of the wrong type where this request needs RQ's (damaged data); inspect it",
        )


class WorkerNotFound(NotFound):
    """Raised when a worker command names a worker with no live record (its hash)."""

    def __init__(self, worker_name: str):
        super().__init__(f"Worker {worker_name!r} not found")
        self.worker_name = worker_name


class JobGroupNotFound(NotFound):
    """Raised when no RQ job group (rq.group.Group) of that name has jobs the key may see."""

    def __init__(self, name: str):
        super().__init__(f"Job group {name!r} not found")
        self.name = name


class WorkerNotListening(Conflict):
    """Raised when a worker command was published but no process received it: the worker died
    without unregistering, and its record lasts until its heartbeat expires."""

    def __init__(self, worker_name: str, job_id: str | None = None):
        super().__init__(
            job_id,
            f"Worker {worker_name!r} did not receive the command: it is not listening "
            "(it may have died; its record expires with its heartbeat)",
        )
        self.worker_name = worker_name


class WorkerRunsOtherWork(Conflict):
    """Raised when a stop names a job whose worker (RQ 2 or later) is not running it (idle, or
    busy with other work): its `started` is stale, and RQ's stop handler would ignore the command,
    so none is sent."""

    def __init__(self, worker_name: str, job_id: str):
        super().__init__(
            job_id,
            f"Job {job_id} says it runs on worker {worker_name}, which is not running it: its status "
            "is stale (the worker it ran on may have died); RQ would ignore a stop, none was sent",
        )
        self.worker_name = worker_name  # the audit record names it (services/access.py)


class Unauthenticated(GatewayError):
    """Raised when API keys are configured and the request carries no key, or an unknown one."""


class Forbidden(GatewayError):
    """Raised when the API key is valid but its role or queue patterns do not allow the action."""

    @classmethod
    def queue(cls, key: str, queue: str) -> Forbidden:
        """The one answer to a queue outside the key's patterns, wherever it is checked."""
        return cls(f"API key {key!r} may not access queue {queue!r}")


class LimitExceeded(GatewayError):
    """Raised when a connection asks for more subscriptions than --max-subscriptions-per-connection
    allows, or when a subscriber reads its stream too slowly and is dropped (gateway/live)."""
