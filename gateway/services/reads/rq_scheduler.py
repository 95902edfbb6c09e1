"""rq-scheduler's scheduled jobs, read-only: its one sorted set (job id -> unix time of the next
run) and, per job, what rq-scheduler keeps in the job's `meta`: `interval` (seconds),
`cron_string`, and `repeat` (runs left). Two round trips; nothing written (rq-scheduler's own
get_jobs deletes ids whose job is gone; here they are shown with no function)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.services.domain.rqtime import rq_time_of
from gateway.services.domain.schedules import RqSchedulerJob, RqSchedulerView
from gateway.services.redis import damaged, keys
from gateway.services.redis.decode import function_name
from gateway.services.redis.json_safe import writable

# Entries of the set a queue-limited caller's walk reads a round trip (with their origins).
WALK_CHUNK = 1000


def _meta(raw: bytes | None, serializer: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        meta = serializer.loads(raw)
    except Exception:  # whatever the serializer raises on bytes it did not write
        return {}
    return meta if isinstance(meta, dict) else {}


def _whole(value: Any) -> int | None:
    """A count rq-scheduler wrote, or None: not an int, or beyond GraphQL's Int (and of more digits
    than Python writes as text, for a damaged one)."""
    whole = isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    return value if whole else None


def read_rq_scheduler(
    connection: Redis,
    serializer: Any,
    limit: int,
    may_see: Callable[[str | None], bool],
    restricted: bool = False,
) -> RqSchedulerView:
    """The first `limit` entries by next run, of the queues the caller may see (`may_see(None)`:
    whether it may see a job whose queue is unknown); `total` counts every entry of the set, or,
    for a `restricted` (queue-limited) caller, every entry it may see (a walk of the whole set):
    neither the count nor the page's gaps tell it of other queues' jobs."""
    if restricted:
        total, ids = _seen_entries(connection, limit, may_see)
    else:
        with connection.pipeline(transaction=False) as pipe:
            pipe.zcard(keys.RQ_SCHEDULER_JOBS)
            if limit:  # 0 asks for the total alone (ZRANGE 0 -1 would be every entry)
                pipe.zrange(keys.RQ_SCHEDULER_JOBS, 0, limit - 1, withscores=True)
            total, *entries = damaged.execute(pipe)
        ids = [(damaged.internal(job_id), score) for job_id, score in (entries[0] if entries else None) or ()]
    if not ids:
        return RqSchedulerView(total=int(total or 0), jobs=[])
    with connection.pipeline(transaction=False) as pipe:
        for job_id, _ in ids:
            pipe.hmget(damaged.key_bytes(keys.job_key(job_id)), "data", "meta", "origin", "status")
        fields = damaged.execute(pipe)
    jobs = []
    for (job_id, score), values in zip(ids, fields, strict=True):
        data, meta_raw, origin, status = values or (None, None, None, None)
        queue = damaged.shown_or_none(origin)
        if not may_see(queue):
            continue
        meta = _meta(meta_raw, serializer)
        cron = meta.get("cron_string")
        jobs.append(
            RqSchedulerJob(
                job_id=damaged.shown_name(job_id),
                func_name=function_name(data, serializer),
                queue=queue,
                next_run=rq_time_of(score),
                interval=_whole(meta.get("interval")),
                cron=writable(cron) if isinstance(cron, str) else None,
                repeat_left=_whole(meta.get("repeat")),
                status=damaged.shown_or_none(status),
            )
        )
    return RqSchedulerView(total=int(total or 0), jobs=jobs)


def _seen_entries(
    connection: Redis, limit: int, may_see: Callable[[str | None], bool]
) -> tuple[int, list[tuple[str, float]]]:
    """(how many entries the caller may see, the first `limit` of them), read WALK_CHUNK entries
    and their jobs' origins a round trip at a time."""
    seen, first = 0, []
    start = 0
    while True:
        with connection.pipeline(transaction=False) as pipe:
            pipe.zrange(keys.RQ_SCHEDULER_JOBS, start, start + WALK_CHUNK - 1, withscores=True)
            (entries,) = damaged.execute(pipe)
        ids = [(damaged.internal(job_id), score) for job_id, score in entries or ()]
        if not ids:
            return seen, first
        with connection.pipeline(transaction=False) as pipe:
            for job_id, _ in ids:
                pipe.hget(damaged.key_bytes(keys.job_key(job_id)), "origin")
            origins = damaged.execute(pipe)
        for entry, origin in zip(ids, origins, strict=True):
            if may_see(damaged.shown_or_none(origin)):
                seen += 1
                if len(first) < limit:
                    first.append(entry)
        start += WALK_CHUNK
