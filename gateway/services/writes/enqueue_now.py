"""Run a scheduled job now, or, forced, a deferred one: one Lua step (redis/lua/enqueue_now.lua),
exactly once even while RQ's scheduler is moving the same job.

A deferred job waits for its dependencies. Forcing it enqueues it regardless: it runs without
them, and it leaves their dependents, so RQ does not enqueue it again when they finish.
A rate-limited job (RQ 3) is claimed by the script and enqueued by RQ itself, which takes its
slot; without a running scheduler nobody else moves it, and a failed enqueue puts it back.
"""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import Queue

from gateway.errors import Conflict, JobNotFound, QueueKeyDamaged
from gateway.services.domain.control import EnqueueNowOutcome
from gateway.services.domain.rqtime import rq_now
from gateway.services.redis import damaged, keys, scripts
from gateway.services.redis.resend import OutcomeUnknown

log = logging.getLogger(__name__)


class EnqueueNowCode(IntEnum):
    """The replies of enqueue_now.lua, by name."""

    GONE = -1
    NOT_WAITING = 0
    ENQUEUED = 1
    HANDED_TO_SCHEDULER = 2
    MOVED = 3
    DEFERRED = 4
    RATE_LIMITED = 5
    QUEUE_DAMAGED = 6


class EnqueueNow:
    def __init__(self, connection: Redis, default_queue: str, serializer: Any) -> None:
        self._connection = connection
        self._default_queue = default_queue
        self._serializer = serializer
        self._script = connection.register_script(scripts.ENQUEUE_NOW)

    def run(self, job_id: str, origin: str, force: bool) -> EnqueueNowOutcome:
        """Enqueue the job on `origin`, the queue the access check resolved for it."""
        reply = self._script(
            keys=[
                keys.job_key(job_id),
                keys.queue_key(origin),
                keys.registry_key("scheduled", origin),
                keys.registry_key("deferred", origin),
                keys.scheduler_lock_key(origin),
                keys.QUEUES_SET,
            ],
            args=[
                job_id,
                origin,
                self._default_queue,
                rq_now(),
                int(force),
                *keys.DEPENDENCIES_KEY_PARTS,
                *keys.DEPENDENTS_KEY_PARTS,
            ],
        )
        code, raw_status = EnqueueNowCode(reply[0]), reply[1]
        status = damaged.shown(raw_status) if isinstance(raw_status, bytes) else str(raw_status)
        if code == EnqueueNowCode.ENQUEUED:
            return _outcome(job_id, origin, "gateway", f"Job {job_id} has been enqueued on {origin!r}")
        if code == EnqueueNowCode.HANDED_TO_SCHEDULER:
            message = f"Job {job_id} is due now: RQ's scheduler for {origin!r} enqueues it on its next tick"
            return _outcome(job_id, origin, "scheduler", message)
        if code == EnqueueNowCode.RATE_LIMITED:
            return self._rq_enqueue(job_id, origin)
        if code == EnqueueNowCode.GONE:
            raise JobNotFound(job_id)
        if code == EnqueueNowCode.MOVED:
            raise Conflict(job_id, f"Job {job_id} moved to another queue meanwhile; try again")
        if code == EnqueueNowCode.QUEUE_DAMAGED:
            raise QueueKeyDamaged(job_id)
        if code == EnqueueNowCode.DEFERRED:
            raise Conflict(
                job_id,
                f"Job {job_id} is deferred: it waits for its dependencies. "
                "force=true enqueues it regardless, and it then runs without them",
            )
        state = status or "in no known state"
        raise Conflict(
            job_id, f"Job {job_id} is {state}; only scheduled or deferred jobs can be enqueued now"
        )

    def _rq_enqueue(self, job_id: str, origin: str) -> EnqueueNowOutcome:
        """A rate-limited job: claimed (out of its registry) by one caller, enqueued by RQ."""
        scheduled = keys.registry_key("scheduled", origin)
        deferred = keys.registry_key("deferred", origin)
        with self._connection.pipeline() as pipe:
            pipe.zscore(scheduled, job_id)
            pipe.zscore(deferred, job_id)
            pipe.zrem(scheduled, job_id)
            pipe.zrem(deferred, job_id)
            scheduled_at, deferred_at, *claims = pipe.execute()
        if not any(claims):
            raise Conflict(job_id, f"Job {job_id} was enqueued by another caller first")
        try:
            job = Job.fetch(job_id, connection=self._connection, serializer=self._serializer)
            Queue(origin, connection=self._connection, serializer=self._serializer).enqueue_job(job)
        except Exception as error:
            # Put the claim back, so the job waits where it was rather than being lost. The first
            # error is the answer; a put-back that failed too is chained to it, and logged.
            lost = _put_back(
                self._connection, job_id, origin, {scheduled: scheduled_at, deferred: deferred_at}, error
            )
            if isinstance(error, RedisError) and not damaged.is_wrong_type(error):
                raise error from lost  # Redis went away or refused: a 503, as every call
            if isinstance(error, NoSuchJobError):
                raise JobNotFound(job_id) from lost
            # RQ could not load or enqueue it: damaged job data (a rate-limit key that is not
            # UTF-8, a field RQ cannot parse) or rate-limit keys of another type.
            log.warning("enqueue-now: RQ could not enqueue job %s: %r", job_id, error)
            where = (
                "was left where it was"
                if lost is None
                else "could not be put back where it was (see the log)"
            )
            raise Conflict(
                job_id,
                f"Job {job_id} {where}: RQ cannot load or enqueue it (its data or its rate limit's state "
                "in Redis is damaged)",
            ) from lost
        return _outcome(job_id, origin, "gateway", f"Job {job_id} has been enqueued on {origin!r}")


def _put_back(
    connection: Redis, job_id: str, origin: str, claims: dict[str, float | None], error: BaseException
) -> RedisError | None:
    """The claimed job back in the registry it was claimed from, at the score it had: None when
    it is (or when RQ's enqueue, whose reply was lost, did push it: it is then not put back too),
    else the put-back's own failure, logged with what restores the job. A ZADD of the score it
    had is the same however often sent, so one dropped connection is met by sending it again."""
    try:
        if isinstance(error, OutcomeUnknown) and connection.lpos(keys.queue_key(origin), job_id) is not None:
            return None
        for attempt in (1, 2):
            try:
                for key, score in claims.items():
                    if score is not None:
                        connection.zadd(key, {job_id: score})
                return None
            except RedisConnectionError:
                if attempt == 2:
                    raise
    except RedisError as failure:
        where = " or ".join(
            f"ZADD {key} {score} {job_id}" for key, score in claims.items() if score is not None
        )
        log.error(
            "enqueue-now: job %s is out of its registry and could not be put back (%r, after %r); "
            "%s restores it",
            job_id,
            failure,
            error,
            where,
        )
        return failure
    return None


def _outcome(job_id: str, queue: str, by: str, message: str) -> EnqueueNowOutcome:
    return EnqueueNowOutcome(job_id=job_id, queue=queue, enqueued_by=by, message=message)
