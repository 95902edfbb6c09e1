"""The per-job codes the Lua scripts return, by name.

The scripts (redis/lua: requeue.lua, delete.lua and their dry twins, cancel.lua) return bare
numbers, since Lua has no enums; Python reads them only through these names. tests/test_outcome.py
runs each script into each case and checks the number it returns against the name here.
"""

from __future__ import annotations

from enum import IntEnum

from gateway.errors import JobDataGone, JobUnreadable, QueueKeyDamaged


class Outcome(IntEnum):
    """What REQUEUE or DELETE did with one id."""

    DONE = 1  # requeued, or deleted (orphans included)
    NOT_IN_REGISTRY = 0  # not (or no longer) in the registry: another caller took it first
    ORPHAN = -1  # in the registry, but its hash is gone or not a hash: deletable, not retryable
    RATE_LIMITED = 2  # left for RQ's own requeue, which reacquires the job's slot (RQ 3)
    UNREADABLE = 3  # its id or origin is not UTF-8: RQ could not load the job
    QUEUE_DAMAGED = 4  # its queue key holds another Redis type: a push there would fail
    REQUEUED = DONE
    DELETED = DONE


class CancelCode(IntEnum):
    """What lifecycle.CANCEL did with one job."""

    CANCELED = 1
    NOT_WAITING = 0  # not (any more) queued, deferred or scheduled
    GONE = -1  # no job hash
    RATE_LIMITED = 2  # left for RQ's own cancel, which frees the job's slot
    MOVED = 3  # its origin changed since the access check read it


# A retry code that is neither done nor "another caller took it": the error it is. A single
# retry raises it; a bulk retry lists its `reason` against the job.
RETRY_REFUSALS: dict[Outcome, type[JobDataGone | JobUnreadable | QueueKeyDamaged]] = {
    Outcome.ORPHAN: JobDataGone,
    Outcome.UNREADABLE: JobUnreadable,
    Outcome.QUEUE_DAMAGED: QueueKeyDamaged,
}
RETRY_ERRORS: dict[int, str] = {code: refusal.reason for code, refusal in RETRY_REFUSALS.items()}
