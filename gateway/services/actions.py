"""Retry and delete failed jobs. Each job's claim and action run in one Lua script, so two
callers never both act on one job and a crash between claim and enqueue cannot happen."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from gateway.errors import JobDataGone, JobUnreadable
from gateway.services import keys, scripts
from gateway.services.models import BulkOutcome, JobError
from gateway.services.registry import Entry, RegistryReader, now_timestamp

REQUEUED, NOT_IN_REGISTRY, ORPHAN, RATE_LIMITED, UNREADABLE = 1, 0, -1, 2, 3
DELETED = 1

# What RQ's requeue writes for exc_info: its `job._exc_info = ''`, compressed by Job.to_dict.
_EMPTY_EXC_INFO = zlib.compress(b"")

# Ids per script call: keeps each script's time inside Redis short (a few ms) and memory bounded.
BULK_CHUNK = 500

ORPHAN_RETRY_ERROR = JobDataGone.reason
UNREADABLE_RETRY_ERROR = JobUnreadable.reason


class FailedJobActions:
    """The write side of one queue's failed registry."""

    def __init__(self, connection: Redis, queue_name: str, serializer: Any):
        self._connection = connection
        self._queue_name = queue_name
        self._serializer = serializer
        self._registry_key = keys.registry_key("failed", queue_name)
        self._reader = RegistryReader(connection)
        self._requeue = connection.register_script(scripts.REQUEUE)
        self._delete = connection.register_script(scripts.DELETE)

    def requeue(self, job_ids: list[str]) -> list[int]:
        """One code per id: REQUEUED, NOT_IN_REGISTRY, ORPHAN or UNREADABLE."""
        now = datetime.now(timezone.utc)
        codes = self._requeue(
            keys=[self._registry_key],
            args=[
                now_timestamp(),
                now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                keys.JOB_PREFIX,
                keys.QUEUE_PREFIX,
                keys.QUEUES_SET,
                self._queue_name,
                _EMPTY_EXC_INFO,
                *keys.DEPENDENCIES_KEY_PARTS,
                *job_ids,
            ],
        )
        return [
            self._finish_rate_limited(job_id, int(code)) for job_id, code in zip(job_ids, codes, strict=True)
        ]

    def _finish_rate_limited(self, job_id: str, code: int) -> int:
        # RQ 3 rate-limited jobs must reacquire a slot through RQ's own code path.
        if code != RATE_LIMITED:
            return code
        # Unlike our script, RQ claims (ZREM) and enqueues in two steps here.
        registry = FailedJobRegistry(
            self._queue_name, connection=self._connection, serializer=self._serializer
        )
        try:
            job = Job.fetch(job_id, connection=self._connection, serializer=self._serializer)
        except NoSuchJobError:
            return ORPHAN
        except RedisError:
            raise
        except Exception:
            return UNREADABLE
        try:
            registry.requeue(job)
        except InvalidJobOperation:
            return NOT_IN_REGISTRY
        return REQUEUED

    def delete(self, job_ids: list[str]) -> list[int]:
        """One code per id: DELETED (orphans included) or NOT_IN_REGISTRY."""
        args: list[Any] = [now_timestamp(), keys.GROUP_PREFIX]
        for prefix, suffix in keys.JOB_KEY_PARTS:
            args.extend((prefix, suffix))
        codes = self._delete(keys=[self._registry_key], args=[*args, "--", *job_ids])
        return [int(code) for code in codes]

    def chunks(self) -> Iterator[tuple[int, list[Entry]]]:
        """Live entries in registry order, BULK_CHUNK at a time, up to the last entry present
        when the walk began. An id is yielded once per walk: a job that fails again meanwhile
        re-enters the registry with a new score, possibly ahead of the walk, and is left there."""
        total, last = self._reader.last(self._registry_key)
        if last is None:
            return
        bound = (float(last.score), last.job_id)
        seen: set[str] = set()
        cursor = None
        while True:
            _, entries = self._reader.after(self._registry_key, cursor, BULK_CHUNK)
            in_bound = [e for e in entries if (float(e.score), e.job_id) <= bound]
            if not in_bound:
                return
            cursor = (in_bound[-1].score, in_bound[-1].job_id)
            fresh = [e for e in in_bound if e.job_id not in seen]
            seen.update(e.job_id for e in fresh)
            if fresh:
                yield total, fresh


def run_bulk(
    actions: FailedJobActions,
    act: Callable[[list[str]], list[int]],
    errors_for: dict[int, str],
    done_code: int,
) -> BulkOutcome:
    """Walk the registry in chunks and act on each. Codes in neither `done_code` nor
    `errors_for` are ids another caller took first: they go in neither list."""
    total = 0
    done: list[str] = []
    errors: list[JobError] = []
    for seen_at_start, entries in actions.chunks():
        total = seen_at_start
        ids = [entry.job_id for entry in entries]
        for job_id, code in zip(ids, act(ids), strict=True):
            if code == done_code:
                done.append(job_id)
            elif code in errors_for:
                errors.append(JobError(job_id, errors_for[code]))
    return BulkOutcome(total, done, errors)
