"""RQ 3's concurrency rate limits and job groups, read-only. RQ's own reads write: Group.all()
and Group.get_jobs() drop expired members and groups. Here nothing is written; a member whose job
is gone is shown with no status, as it is in Redis.

Both span queues. Each job listed is checked against the caller's queue patterns (its origin,
read in the same round trip as its status): a queue-limited key sees only its queues' jobs, and
counts that cover other queues' jobs are shown only to keys without patterns."""

from __future__ import annotations

from collections.abc import Callable

from redis import Redis

from gateway.errors import JobGroupNotFound
from gateway.services.domain.rq3 import JobGroupInfo, JobGroupSummary, LimitedJob, RateLimitInfo
from gateway.services.redis import damaged, keys

MaySee = Callable[[str | None], bool]
# The jobs listed per rate-limit set or group; the counts cover them all.
JOBS_SHOWN = 100
# Jobs whose origin one pipeline reads: a queue-limited key's counts read every member's origin.
READ_CHUNK = 1000


def _jobs(connection: Redis, ids: list[str], may_see: MaySee, restricted: bool) -> list[LimitedJob]:
    """The jobs of `ids` the caller may see, in order, with origin and status: one pipeline for
    the listed jobs of an unrestricted read, READ_CHUNK a pipeline for every member of a
    queue-limited key's (however many there are)."""
    jobs = []
    step = READ_CHUNK if restricted else max(len(ids), 1)
    for start in range(0, len(ids), step):
        chunk = ids[start : start + step]
        with connection.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hmget(damaged.key_bytes(keys.job_key(job_id)), "origin", "status")
            replies = damaged.execute(pipe)
        for job_id, fields in zip(chunk, replies, strict=True):
            origin, status = fields or (None, None)
            queue = damaged.shown_or_none(origin)
            if may_see(queue):
                jobs.append(LimitedJob(damaged.shown_name(job_id), queue, damaged.shown_or_none(status)))
    return jobs


def read_rate_limits(connection: Redis, may_see: MaySee, restricted: bool) -> list[RateLimitInfo]:
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.RATE_LIMIT_KEYS)
        (members,) = damaged.execute(pipe)
    names = sorted(damaged.internal(member) for member in members or ())
    if not names:
        return []
    with connection.pipeline(transaction=False) as pipe:
        for name in names:
            config, allowed, waiting = keys.rate_limit_keys(name)
            pipe.hget(damaged.key_bytes(config), "concurrency")
            pipe.zcard(damaged.key_bytes(allowed))
            pipe.zcard(damaged.key_bytes(waiting))
            # A queue-limited key counts only its queues' jobs, so it reads every member's origin.
            last = -1 if restricted else JOBS_SHOWN - 1
            pipe.zrange(damaged.key_bytes(allowed), 0, last)
            pipe.zrange(damaged.key_bytes(waiting), 0, last)
        replies = damaged.execute(pipe)
    sets = [replies[index * 5 + 3 : index * 5 + 5] for index in range(len(names))]
    # Every listed job's origin and status in one round trip, whatever the number of keys.
    listed = _jobs(
        connection,
        [damaged.internal(i) for pair in sets for ids in pair for i in ids or ()],
        may_see,
        restricted,
    )
    by_id = {job.job_id: job for job in listed}
    limits = []
    for index, name in enumerate(names):
        concurrency, allowed_count, waiting_count = replies[index * 5 : index * 5 + 3]
        allowed, waiting = (
            [by_id[i] for i in map(_shown_id, ids or ()) if i in by_id] for ids in sets[index]
        )
        if restricted and not allowed and not waiting:
            continue  # a key whose jobs are all in other queues
        limits.append(
            RateLimitInfo(
                key=damaged.shown_name(name),
                concurrency=_count(concurrency),
                allowed_count=len(allowed) if restricted else int(allowed_count or 0),
                waiting_count=len(waiting) if restricted else int(waiting_count or 0),
                allowed=allowed[:JOBS_SHOWN],
                waiting=waiting[:JOBS_SHOWN],
            )
        )
    return limits


def _shown_id(raw: bytes) -> str:
    return damaged.shown_name(damaged.internal(raw))


def _count(raw: bytes | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def read_job_groups(connection: Redis) -> list[JobGroupSummary]:
    """Every group in RQ's groups set whose set of jobs exists, with its member count."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.GROUPS_SET)
        (members,) = damaged.execute(pipe)
    names = sorted(damaged.internal(member) for member in members or ())
    if not names:
        return []
    with connection.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.scard(damaged.key_bytes(keys.GROUP_PREFIX + name))
        counts = damaged.execute(pipe)
    return [
        JobGroupSummary(damaged.shown_name(name), int(count))
        for name, count in zip(names, counts, strict=True)
        if count
    ]


def read_job_group(connection: Redis, name: str, may_see: MaySee, restricted: bool) -> JobGroupInfo:
    """One group's jobs (the first JOBS_SHOWN by id) with their statuses. A queue-limited key's
    count and list cover only its queues' jobs, found among all the members (not the first ones
    alone, which may all be other queues')."""
    key = damaged.key_bytes(keys.GROUP_PREFIX + name)
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(key)
        (members,) = damaged.execute(pipe)
    ids = sorted(damaged.internal(member) for member in members or ())
    jobs = _jobs(connection, ids if restricted else ids[:JOBS_SHOWN], may_see, restricted)
    if not ids or (restricted and not jobs):
        raise JobGroupNotFound(name)
    return JobGroupInfo(name=name, job_count=len(jobs) if restricted else len(ids), jobs=jobs[:JOBS_SHOWN])
