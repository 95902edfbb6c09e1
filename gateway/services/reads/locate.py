"""Where a job is, and what it waits for or holds up, read in the same round trip as the job.

One pipeline: the job hash, its latest result, one read-only script that finds the job in its
origin's queue list (LPOS) or registries (ZSCORE; the started registry holds `id:execution`
members, found through the job's executions key), and the job's dependents set. Dependencies
come from the hash's `dependency_ids`, as RQ's Job.restore reads them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from redis import Redis

from gateway.services.domain import json_text
from gateway.services.domain.models import JobInfo, JobLocation
from gateway.services.redis import damaged, keys, scripts
from gateway.services.redis.decode import decode_job
from gateway.services.redis.registry import now_timestamp

# Registries scored by expiry: an entry whose score lies in [0, now] is one RQ's cleanup would
# delete, so it is treated as absent, as everywhere else in the gateway.
_BY_EXPIRY = ("failed", "finished")
_BY_TIME = ("deferred", "scheduled", "canceled")


def _template(state: str) -> tuple[str, str]:
    prefix, _, suffix = keys.registry_key(state, "\x00").partition("\x00")
    return prefix, suffix


def _locate_args(job_id: str, fallback: str) -> list[Any]:
    args: list[Any] = [job_id, keys.JOB_PREFIX, keys.QUEUE_PREFIX, fallback, now_timestamp()]
    args.extend(keys.EXECUTIONS_KEY_PARTS)
    args.extend(_template("started"))
    for state in (*_BY_EXPIRY, *_BY_TIME):
        args.extend((state, *_template(state), "1" if state in _BY_EXPIRY else "0"))
    return args


def fetch_located_job(
    connection: Redis, job_id: str, serializer: Any, default_queue: str, with_results: bool = True
) -> JobInfo | None:
    """The job with location, dependency_ids and dependent_ids; None when there is no job hash."""
    return fetch_located_job_at(connection, job_id, serializer, default_queue, with_results)[0]


# Where in its queue or registry a located job is: its index in the queue list, or its registry
# entry's (member, score). None when it is in neither.
Place = int | tuple[bytes, str] | None


def fetch_located_job_at(
    connection: Redis, job_id: str, serializer: Any, default_queue: str, with_results: bool = True
) -> tuple[JobInfo | None, Place]:
    """fetch_located_job, and the job's Place, from the same round trip."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.job_key(job_id))
        if with_results:
            pipe.xrevrange(keys.results_key(job_id), "+", "-", count=1)
        # EVAL, not EVALSHA: the script travels in this same round trip, cached or not.
        pipe.eval(scripts.LOCATE, 0, *_locate_args(job_id, default_queue))
        pipe.smembers(keys.job_key(job_id) + keys.DEPENDENTS_KEY_PARTS[1])
        replies = damaged.execute(pipe)
    raw, *rest = replies
    latest = rest.pop(0) if with_results else None
    located, dependents = rest
    if not raw:
        return None, None  # no job hash, or a key of another type (damaged data reads as absent)
    origin, state, *found = located
    # A damaged status reads as the failed list reads it: failed in the failed registry.
    default_status = "failed" if state == b"failed" else "created"
    job = decode_job(job_id, raw, latest, serializer, default_queue, default_status)
    located_job = _with_details(
        job,
        JobLocation(queue=damaged.shown(origin), registry=state.decode() if state else None),
        _dependency_ids(raw),
        sorted(damaged.shown(m) for m in dependents or ()),
    )
    return located_job, _place(found[0] if found else None)


def _place(found: Any) -> Place:
    if isinstance(found, int):
        return found
    if isinstance(found, list) and len(found) == 2:
        return bytes(found[0]), bytes(found[1]).decode()
    return None


def _with_details(job: JobInfo, location: JobLocation, deps: list[str], dependents: list[str]) -> JobInfo:
    return replace(job, location=location, dependency_ids=deps, dependent_ids=dependents)


def _dependency_ids(raw: dict[bytes, bytes]) -> list[str]:
    """As RQ's Job.restore: the JSON list `dependency_ids`, else the single legacy `dependency_id`."""
    value = raw.get(b"dependency_ids")
    if value:
        try:
            ids = json_text.loads(value)
        except ValueError:
            return []
        return [str(i) for i in ids] if isinstance(ids, list) else []
    single = raw.get(b"dependency_id")
    return [damaged.shown(single)] if single else []
