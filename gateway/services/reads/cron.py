"""RQ's CronSchedulers (RQ >= 2.4) and their cron jobs, read-only, in four round trips whatever
their number: the scheduler registry, the schedulers' hashes, each cron job's history, then the
status of the jobs in those histories.

Nothing is written: RQ's own CronScheduler.all() first deletes registry entries whose heartbeat
is over two minutes old; here such a scheduler is shown with its old heartbeat instead, and a
registry entry whose hash is gone is skipped. Without a CronScheduler the list is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT

from gateway.services.domain import json_text
from gateway.services.domain.rqtime import rq_time_of
from gateway.services.domain.schedules import CronJobInfo, CronRun, CronSchedulerInfo, CronView
from gateway.services.redis import damaged, keys
from gateway.services.redis.decode import format_timestamp

# The newest runs shown per cron job; `history_total` counts them all.
HISTORY_SHOWN = 20
# The runs RQ keeps per cron job name (rq.defaults.DEFAULT_CRON_JOB_HISTORY_LIMIT).
RQ_HISTORY_LIMIT = DEFAULT_CRON_JOB_HISTORY_LIMIT


def _time(score: float | None) -> str | None:
    return None if score is None else rq_time_of(score)


def _number(raw: Any) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**31 else None


def _cron_jobs(raw: str | None) -> list[dict[str, Any]]:
    """The scheduler's cron jobs as CronJob.to_dict wrote them; [] when unreadable."""
    try:
        jobs = json_text.loads(raw or "[]")
    except ValueError:
        return []
    return [job for job in jobs if isinstance(job, dict)] if isinstance(jobs, list) else []


def read_cron(
    connection: Redis, may_access_queue: Callable[[str], bool], restricted: bool = False
) -> CronView:
    """Every registered CronScheduler, with the cron jobs of queues the caller may access; for a
    `restricted` (queue-limited) caller, only the schedulers with one of those, as the workers of
    other queues are not listed to it."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.zrange(keys.CRON_SCHEDULERS, 0, -1, withscores=True)
        (registered,) = damaged.execute(pipe)
    names = [(damaged.internal(name), score) for name, score in registered or ()]
    if not names:
        return CronView(schedulers=[])
    with connection.pipeline(transaction=False) as pipe:
        for name, _ in names:
            pipe.hgetall(damaged.key_bytes(keys.cron_scheduler_key(name)))
        hashes = damaged.execute(pipe)
    schedulers = []
    # Every scheduler's cron jobs, listed to the caller or not: RQ keys a cron job's history by
    # name, so whether a name is shared with another queue is told by all of them (a scheduler
    # of other queues alone is not listed, but its runs are in the same history).
    queues_of: dict[str, set[str]] = {}
    for (name, heartbeat), data in zip(names, hashes, strict=True):
        if not data:
            continue  # unregistered meanwhile, or its hash expired: as CronScheduler.all skips it
        text = {damaged.shown(k): damaged.shown(v) for k, v in data.items()}
        for job in _cron_jobs(text.get("cron_jobs")):
            queues_of.setdefault(_name(job), set()).add(_queue(job))
        jobs = [
            job
            for job in _cron_jobs(text.get("cron_jobs"))
            if may_access_queue(str(job.get("queue_name", "")))
        ]
        if jobs or not restricted:
            schedulers.append((name, heartbeat, text, jobs))
    wanted = {(_name(job), _queue(job)) for *_, jobs in schedulers for job in jobs}
    histories = _histories(connection, wanted, queues_of, restricted)
    return CronView(
        schedulers=[
            CronSchedulerInfo(
                name=damaged.shown_name(name),
                hostname=text.get("hostname") or None,
                pid=_number(text.get("pid")),
                created_at=format_timestamp(text.get("created_at", "").encode()),
                last_heartbeat=_time(heartbeat),
                config_file=text.get("config_file") or None,
                cron_jobs=[_cron_job(job, histories) for job in jobs],
            )
            for name, heartbeat, text, jobs in schedulers
        ]
    )


def _name(job: dict[str, Any]) -> str:
    return str(job.get("name") or job.get("func_name") or "")


def _queue(job: dict[str, Any]) -> str:
    return str(job.get("queue_name") or "")


def _cron_job(
    job: dict[str, Any], histories: dict[tuple[str, str], tuple[int, list[CronRun]]]
) -> CronJobInfo:
    func_name = str(job.get("func_name") or "")
    name = _name(job)
    total, runs = histories.get((name, _queue(job)), (0, []))
    last = format_timestamp(str(job.get("latest_enqueue_time") or "").encode())
    return CronJobInfo(
        name=name,
        func_name=func_name,
        queue=_queue(job),
        cron=job.get("cron") if isinstance(job.get("cron"), str) else None,
        interval=_number(job.get("interval")),
        next_run=format_timestamp(str(job.get("next_enqueue_time") or "").encode()),
        last_enqueue=last or (runs[0].enqueued_at if runs else None),
        history_total=total,
        history=runs,
    )


def _histories(
    connection: Redis, wanted: set[tuple[str, str]], queues_of: dict[str, set[str]], restricted: bool = False
) -> dict[tuple[str, str], tuple[int, list[CronRun]]]:
    """Each wanted (cron job name, queue)'s run count and newest runs, with each run's status.
    RQ keys the history by name alone, so one function registered on two queues shares one: a
    run is shown on the cron job of the queue its job was enqueued to (its origin), never on the
    other (a key limited to that one must not see the other's ids). When the name is on several
    queues, its whole history (at most RQ's limit) is read to count each queue's runs, and a run
    whose job is gone (queue unknown) is shown on none. For a `restricted` (queue-limited)
    caller every name is read so: the history may still hold runs of a queue no scheduler names
    now (a cron job moved to another queue), which it must not count."""
    ordered = sorted({name for name, _ in wanted})
    if not ordered:
        return {}
    shared = {name for name in ordered if restricted or len(queues_of.get(name, ())) > 1}
    with connection.pipeline(transaction=False) as pipe:
        for name in ordered:
            pipe.zcard(keys.cron_history_key(name))
            last = (RQ_HISTORY_LIMIT if name in shared else HISTORY_SHOWN) - 1
            pipe.zrange(keys.cron_history_key(name), 0, last, desc=True, withscores=True)
        replies = damaged.execute(pipe)
    runs = {
        name: [(damaged.internal(job_id), score) for job_id, score in entries or ()]
        for name, entries in zip(ordered, replies[1::2], strict=True)
    }
    with connection.pipeline(transaction=False) as pipe:
        for entries in runs.values():
            for job_id, _ in entries:
                pipe.hmget(damaged.key_bytes(keys.job_key(job_id)), ["status", "origin"])
        fields = iter(damaged.execute(pipe))
    seen = {
        name: [(job_id, score, *(next(fields) or (None, None))) for job_id, score in runs[name]]
        for name in ordered
    }
    result = {}
    for name, queue in wanted:
        own = [
            CronRun(damaged.shown_name(job_id), damaged.shown_or_none(status), _time(score))
            for job_id, score, status, origin in seen[name]
            if (damaged.shown_or_none(origin) == queue) or (origin is None and name not in shared)
        ]
        total = len(own) if name in shared else int(replies[2 * ordered.index(name)] or 0)
        result[(name, queue)] = (total, own[:HISTORY_SHOWN])
    return result
