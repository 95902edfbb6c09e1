"""Replay a finished or failed job: a new job with the old one's call, on its queue or another.

The new job has the same function (by name, so the gateway never imports it), args, kwargs,
description, timeout, result TTL, failure TTL, callbacks (on_success, on_failure, on_stopped, by
name and with their timeouts) and meta. Not a Retry policy: RQ keeps only the retries left (none,
once a failed job used them all) and their intervals, not the policy it was enqueued with. The
two are linked in their meta: the new job's
`replay_of` names the old one, and the old one's `replayed_as` lists its replays. RQ, not the
gateway, builds and enqueues the new job, so it is exactly what `Queue.enqueue_call` makes.

The new job's meta is the old one's without its `replayed_as`: those are the old job's replays,
not the new one's. The old job's link is added in a WATCH/MULTI transaction on its key, from its
meta as it is then, so two replays at once both stay listed, and a job deleted (or expired)
meanwhile is not brought back as a hash holding a meta alone.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import Queue

from gateway.errors import Conflict, JobNotFound
from gateway.services.domain.control import ReplayOutcome

REPLAYABLE = ("finished", "failed")
REPLAY_OF = "replay_of"
REPLAYED_AS = "replayed_as"

log = logging.getLogger(__name__)


def _undecodable(job_id: str) -> Conflict:
    return Conflict(
        job_id,
        f"Job {job_id}: its data cannot be decoded by the gateway (corrupt, or written with another "
        "serializer), so it cannot be replayed",
    )


def _load(connection: Redis, job_id: str, serializer: Any) -> Job:
    """The old job with its call decoded, or the refusal that says why it cannot be replayed."""
    try:
        job = Job.fetch(job_id, connection=connection, serializer=serializer)
    except NoSuchJobError:
        raise JobNotFound(job_id) from None
    except Exception:  # RQ could not even restore the hash (its meta, a field): undecodable
        raise _undecodable(job_id) from None
    status = job.get_status(refresh=False)
    state = str(status.value if status is not None else "") or "in no known state"
    if state not in REPLAYABLE:
        raise Conflict(job_id, f"Job {job_id} is {state}; only finished or failed jobs can be replayed")
    try:
        func_name, instance = job.func_name, job.instance
        _ = (job.args, job.kwargs)
    except Exception:  # pickle raises whatever the bytes make it raise
        raise _undecodable(job_id) from None
    # RQ restores a meta it cannot decode as {"unserialized": <bytes>} and marks it; a replay
    # would enqueue that stand-in as the new job's meta.
    if not func_name or getattr(job, "_unreadable_meta", None) is not None:
        raise _undecodable(job_id)
    if instance is not None:
        raise Conflict(
            job_id,
            f"Job {job_id} calls a method of an object; only jobs calling a function by name can be replayed",
        )
    return job


def replay(connection: Redis, job_id: str, queue: str, serializer: Any) -> ReplayOutcome:
    """Enqueue the replay of `job_id` on `queue` (already checked by the caller)."""
    old = _load(connection, job_id, serializer)
    target = Queue(queue, connection=connection, serializer=serializer)
    new = target.enqueue_call(
        func=old.func_name,  # pyright: ignore[reportArgumentType]  -- _load refused a job without one
        args=old.args,
        kwargs=old.kwargs,
        timeout=old.timeout,  # pyright: ignore[reportArgumentType]  -- RQ restores timeouts as numbers, passed on as stored
        result_ttl=old.result_ttl,
        failure_ttl=old.failure_ttl,
        description=old.description,
        on_success=_callback(old._success_callback_name, old._success_callback_timeout),
        on_failure=_callback(old._failure_callback_name, old._failure_callback_timeout),
        on_stopped=_callback(old._stopped_callback_name, old._stopped_callback_timeout),
        meta={**{k: v for k, v in old.meta.items() if k != REPLAYED_AS}, REPLAY_OF: old.id},
    )
    _link(connection, old, new.id)
    return ReplayOutcome(job_id=new.id, replay_of=old.id, queue=queue)


def _callback(name: str | None, timeout: int | None) -> Callback | None:
    """A callback of the old job as enqueue_call takes it: by the name RQ stored (the gateway
    imports none), with the timeout it stored (None: RQ's default)."""
    return Callback(name, timeout) if name else None


def _link(connection: Redis, old: Job, new_id: str) -> None:
    """Add `new_id` to the old job's `replayed_as`, from its meta as stored now, only if it is
    still there; a meta that no longer decodes is left as it is (the replay itself is done)."""

    def append(pipe: Pipeline) -> None:
        if not pipe.exists(old.key):
            return
        raw = pipe.hget(old.key, "meta")
        try:
            meta = {} if raw is None else old.serializer.loads(raw)  # pyright: ignore[reportArgumentType]  -- a job hash field, bytes, as RQ passes it
        except Exception:
            meta = None
        if not isinstance(meta, dict):
            log.warning("replay %s of job %s: its meta no longer decodes; not linked", new_id, old.id)
            return
        replays = meta.get(REPLAYED_AS)
        meta[REPLAYED_AS] = [*(replays if isinstance(replays, list) else []), new_id]
        pipe.multi()
        pipe.hset(old.key, "meta", old.serializer.dumps(meta))

    connection.transaction(append, old.key)
