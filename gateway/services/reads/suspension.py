"""Whether workers are suspended (`rq suspend`), and until when: one read of the flag's TTL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from redis import Redis
from redis.client import Pipeline

from gateway.services.domain.control import WorkerSuspension
from gateway.services.domain.rqtime import RQ_TIME_FORMAT
from gateway.services.redis import keys


def queue_suspension_read(pipe: Pipeline) -> None:
    """Add the read to a pipeline (reads/workers.py reads it with the workers set)."""
    pipe.pttl(keys.WORKERS_SUSPENDED)


def suspension_of(pttl: int | None) -> WorkerSuspension:
    """PTTL's answer: -2 no flag (not suspended), -1 a flag without expiry (until resumed),
    otherwise the milliseconds left. RQ's workers check only that the flag exists."""
    if pttl is None or pttl == -2:
        return WorkerSuspension(suspended=False)
    if pttl < 0:
        return WorkerSuspension(suspended=True)
    until = datetime.now(timezone.utc) + timedelta(milliseconds=pttl)
    return WorkerSuspension(suspended=True, until=until.strftime(RQ_TIME_FORMAT))


def read_suspension(connection: Redis) -> WorkerSuspension:
    with connection.pipeline(transaction=False) as pipe:
        queue_suspension_read(pipe)
        (pttl,) = pipe.execute()
    return suspension_of(pttl)
