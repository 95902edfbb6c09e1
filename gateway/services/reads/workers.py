"""Every RQ worker in at most three pipelined round trips, whatever their number: the workers set
(with the suspension flag), then each worker's hash and execution index, then whether those
executions are still alive. A key limited to queue patterns sees them through workers_seen_by
(one more round trip when any of its workers is busy)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.services.domain.control import WorkerSuspension
from gateway.services.domain.models import WorkerInfo
from gateway.services.reads.suspension import queue_suspension_read, suspension_of
from gateway.services.redis import damaged, keys
from gateway.services.redis.decode import format_timestamp
from gateway.services.redis.origins import read_places

# What RQ's parse_composite_key reads: one ':' between the job id and the execution id.
_JOB_EXECUTION = re.compile(r"[^:]+:[^:]+")


def list_workers(connection: Redis) -> list[WorkerInfo]:
    """Workers sorted by name. A key left in the workers set by a worker that died without
    unregistering (its hash expired) is skipped, as RQ's Worker.all does, but not removed."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.WORKERS_SET)
        queue_suspension_read(pipe)
        replies = pipe.execute(raise_on_error=False)
    members = damaged.readable(replies[0])  # a workers set of another type holds no worker
    suspension = suspension_of(*replies[1:])
    worker_keys = sorted(damaged.internal(member) for member in members or ())
    worker_keys = [key for key in worker_keys if key.startswith(keys.WORKER_PREFIX)]
    if not worker_keys:
        return []
    names = [key[len(keys.WORKER_PREFIX) :] for key in worker_keys]
    with connection.pipeline(transaction=False) as pipe:
        for key, name in zip(worker_keys, names, strict=True):
            pipe.hgetall(damaged.key_bytes(key))
            pipe.smembers(damaged.key_bytes(keys.worker_executions_key(name)))
        replies = damaged.execute(pipe)  # a hash of another type reads as a worker that is gone
    hashes = replies[0::2]
    executions = [sorted(damaged.shown(member) for member in members or ()) for members in replies[1::2]]
    running = [member for data, members in zip(hashes, executions, strict=True) if data for member in members]
    alive = _alive_executions(running, connection)
    return [
        _worker(name, data, [e for e in running if e in alive], suspension)
        for name, data, running in zip(names, hashes, executions, strict=True)
        if data
    ]


def workers_seen_by(
    connection: Redis, workers: list[WorkerInfo], may_access_queue: Callable[[str], bool]
) -> list[WorkerInfo]:
    """The workers as a key limited to queue patterns sees them: those listening to a queue it may
    access, each showing only those queues, and its current job only when that job's queue (its
    origin, read in one pipeline as job(id) reads it) is one of them. Another queue's name or job
    id is as hidden here as in `queues` and `job(id)`; so are the counts of its jobs: a worker
    that also listens to another queue shows no job counters or working time (None), which count
    that queue's jobs."""
    shown = [_seen(worker, may_access_queue) for worker in workers]
    shown = [worker for worker in shown if worker.queues]
    busy = [worker for worker in shown if worker.current_job_id is not None]
    if not busy:
        return shown
    # The job's queue as job(id) reads it (origins.py): an origin empty, missing or not UTF-8,
    # or a job key of another type, is an unknown queue, in no pattern.
    job_ids = sorted({worker.current_job_id or "" for worker in busy})
    hidden = {
        place.job_id
        for place in read_places(connection, job_ids)
        if place.queue is None or not may_access_queue(place.queue)
    }
    return [
        dataclasses.replace(worker, current_job_id=None) if worker.current_job_id in hidden else worker
        for worker in shown
    ]


def _seen(worker: WorkerInfo, may_access_queue: Callable[[str], bool]) -> WorkerInfo:
    queues = [queue for queue in worker.queues if may_access_queue(queue)]
    if len(queues) == len(worker.queues):
        return worker
    return dataclasses.replace(
        worker, queues=queues, successful_job_count=None, failed_job_count=None, total_working_time=None
    )


def _alive_executions(composite_keys: list[str], connection: Redis) -> set[str]:
    """The executions whose hash still exists: RQ drops index members whose hash expired. A
    member that is not RQ's "job_id:execution_id" (damaged data) names no execution."""
    readable = [composite for composite in composite_keys if _JOB_EXECUTION.fullmatch(composite)]
    if not readable:
        return set()
    with connection.pipeline(transaction=False) as pipe:
        for composite in readable:
            pipe.exists(keys.execution_key(composite))
        replies = pipe.execute()
    return {composite for composite, exists in zip(readable, replies, strict=True) if exists}


def _worker(
    name: str, data: dict[bytes, bytes], executions: list[str], suspension: WorkerSuspension
) -> WorkerInfo:
    text = {damaged.shown(key): damaged.shown(value) for key, value in data.items()}
    if executions:
        current: str | None = executions[0].partition(":")[0]
    else:
        current = text.get("current_job") or None  # RQ 1.x workers kept it in their hash
    return WorkerInfo(
        name=damaged.shown_name(name),
        state=text.get("state") or "?",
        queues=[queue for queue in text.get("queues", "").split(",") if queue],
        current_job_id=current,
        successful_job_count=_number(int, text.get("successful_job_count")),
        failed_job_count=_number(int, text.get("failed_job_count")),
        total_working_time=_number(float, text.get("total_working_time")),
        last_heartbeat=format_timestamp(data.get(b"last_heartbeat")),
        birth_date=format_timestamp(data.get(b"birth")),
        hostname=text.get("hostname") or None,
        pid=_pid(text.get("pid")),
        suspended=suspension.suspended,
        suspended_until=suspension.until,
    )


def _pid(raw: str | None) -> int | None:
    """A process id, or None: no system hands out one beyond 2**31 - 1 (GraphQL's Int bound)."""
    pid = _number(int, raw)
    return pid if 0 < pid < 2**31 else None


def _number(kind: Any, raw: str | None) -> Any:
    """The number a worker wrote; 0 for anything else, 'inf' and 'nan' included (JSON has none)."""
    try:
        value = kind(raw) if raw else kind(0)
    except ValueError:
        return kind(0)
    return value if math.isfinite(value) else kind(0)


def worker_from_hash(name: str, data: dict[bytes, bytes]) -> WorkerInfo:
    """A worker from its hash alone, for reads that cannot afford the execution round trips
    (reads/snapshot.py): its current job is the hash's, if any. /metrics shows no suspension,
    so it is not read (rq-exporter has no such label)."""
    return _worker(name, data, [], _NOT_READ)


_NOT_READ = WorkerSuspension(suspended=False)
