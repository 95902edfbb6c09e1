"""Whether workers are suspended (`rq suspend`), and until when: the flag's TTL, read in one round
trip (alone, or within the workers read of reads/workers.py)."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis
from redis.client import Pipeline

from gateway.services.domain.control import WorkerSuspension
from gateway.services.domain.rqtime import rq_time_of
from gateway.services.redis import keys


def queue_suspension_read(pipe: Pipeline) -> None:
    """Add the two replies suspension_of reads to a pipeline run with raise_on_error=False."""
    pipe.pttl(keys.WORKERS_SUSPENDED)
    # The expiry as an absolute time (Redis 7+), so every read says the same "until"; an older
    # server answers an error here, and the time is then computed from PTTL, to the millisecond.
    pipe.execute_command("PEXPIRETIME", keys.WORKERS_SUSPENDED)


def suspension_of(pttl: Any, expire_time: Any) -> WorkerSuspension:
    """PTTL -2: no flag (not suspended); -1: a flag without expiry (until resumed). RQ's workers
    check only that the flag exists."""
    if isinstance(pttl, Exception):
        raise pttl
    if pttl is None or pttl == -2:
        return WorkerSuspension(suspended=False)
    if pttl < 0:
        return WorkerSuspension(suspended=True)
    if isinstance(expire_time, int) and expire_time > 0:
        until = expire_time / 1000
    else:
        until = time.time() + pttl / 1000
    # An expiry no date can hold (PSETEX reaches 292 million years) is, in effect, until resumed.
    return WorkerSuspension(suspended=True, until=rq_time_of(until))


def read_suspension(connection: Redis) -> WorkerSuspension:
    with connection.pipeline(transaction=False) as pipe:
        queue_suspension_read(pipe)
        return suspension_of(*pipe.execute(raise_on_error=False))
