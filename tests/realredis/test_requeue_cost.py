"""The requeue script's cost per job stays a few Redis commands: the checks the damaged-data rule
added (the queue key's type, UTF-8 names) must not cost a command per job. Counted with Redis's
own INFO commandstats on a real server, so a regression shows as a number, not a timing."""

from __future__ import annotations

import redis

from gateway.services import JobService


def _calls(r: redis.Redis, command: str) -> int:
    return int(r.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def _type_calls_of_a_retry_all(r: redis.Redis, fail_jobs, count: int) -> int:
    r.flushall()
    failed = fail_jobs(count)
    r.config_resetstat()
    outcome = JobService(r).retry_all()
    assert sorted(outcome.done_jobs) == sorted(failed)
    assert _calls(r, "rpush") == count
    return _calls(r, "type")


def test_retry_all_reads_key_types_once_per_script_call_not_per_job(r, fail_jobs):
    # Both sizes fit one chunk (500 ids): the same script calls, so the same TYPE reads. A type
    # check per job (as the queue key's was) makes the 40-job count 30 higher.
    assert _type_calls_of_a_retry_all(r, fail_jobs, 10) == _type_calls_of_a_retry_all(r, fail_jobs, 40)
