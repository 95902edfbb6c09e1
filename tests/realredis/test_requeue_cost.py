"""The requeue script's cost per job stays a few Redis commands: the checks the damaged-data rule
added (the queue key's type, UTF-8 names) must not cost a command per job. Counted with Redis's
own INFO commandstats on a real server, so a regression shows as a number, not a timing."""

from __future__ import annotations

import redis

from gateway.services import JobService
from gateway.services.redis import keys


def _calls(r: redis.Redis, command: str) -> int:
    return int(r.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def _type_calls_of_a_retry_all(r: redis.Redis, fail_jobs, count: int) -> int:
    r.flushall()
    failed = fail_jobs(count)
    r.config_resetstat()
    outcome = JobService(r).retry_all()
    assert sorted(outcome.done_jobs) == sorted(failed)
    # One RPUSH and one ZREM for the whole chunk (one queue), not one per job.
    assert (_calls(r, "rpush"), _calls(r, "zrem")) == (1, 1)
    assert r.llen("rq:queue:default") == count
    return _calls(r, "type")


def test_retry_all_reads_key_types_once_per_script_call_not_per_job(r, fail_jobs):
    # Both sizes fit one chunk (500 ids): the same script calls, so the same TYPE reads. A type
    # check per job (as the queue key's was) makes the 40-job count 30 higher.
    assert _type_calls_of_a_retry_all(r, fail_jobs, 10) == _type_calls_of_a_retry_all(r, fail_jobs, 40)


def test_a_retry_all_costs_at_most_three_commands_per_job_plus_a_fixed_few(r, fail_jobs):
    """Per job: ZSCORE (the claim), HMGET (status, origin, rate limit, ttl) and HSET; the ZREMs
    and RPUSHes go in batches. Measured as the slope between two sizes, so the walk's own reads
    (a fixed few per chunk) cancel out."""

    assert _slope(r, fail_jobs, "retry_all") <= 3


def test_a_clear_costs_at_most_two_commands_per_job_plus_a_fixed_few(r, fail_jobs):
    """Per job: ZSCORE (the claim) and HGET of its group (RQ knows of a group); the ZREMs and the
    DELs of every job's keys go in batches."""
    assert _slope(r, fail_jobs, "clear", groups=True) <= 2


def test_a_clear_reads_no_job_hash_while_rq_knows_of_no_group(r, fail_jobs):
    """Without RQ's set of group names no job is in a group: only the claim is per job. The
    HGET of group_id per job (a third of a delete's time inside Redis) makes this 2."""
    assert _slope(r, fail_jobs, "clear") <= 1


def _slope(r: redis.Redis, fail_jobs, action: str, groups: bool = False) -> float:
    _commands(r, fail_jobs, 1, action, groups)  # first: loads the scripts (NOSCRIPT, then EVAL)
    return (_commands(r, fail_jobs, 40, action, groups) - _commands(r, fail_jobs, 10, action, groups)) / 30


def _commands(r: redis.Redis, fail_jobs, count: int, action: str, groups: bool) -> int:
    """Commands Redis ran for one bulk action over `count` failed jobs, scripts' own included."""
    r.flushall()
    fail_jobs(count)
    if groups:
        r.sadd(keys.GROUPS_SET, "some-batch")
    r.config_resetstat()
    outcome = getattr(JobService(r), action)()
    assert len(outcome.done_jobs) == count
    stats = r.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_evalsha", "cmdstat_eval"))
