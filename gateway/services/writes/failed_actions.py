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

from gateway.errors import JobDataGone, JobUnreadable, QueueKeyDamaged
from gateway.services.domain.models import BulkOutcome, JobError
from gateway.services.redis import keys, scripts
from gateway.services.redis.registry import Entry, RegistryReader, now_timestamp

REQUEUED, NOT_IN_REGISTRY, ORPHAN, RATE_LIMITED, UNREADABLE, QUEUE_DAMAGED = 1, 0, -1, 2, 3, 4
DELETED = 1

# What RQ's requeue writes for exc_info: its `job._exc_info = ''`, compressed by Job.to_dict.
_EMPTY_EXC_INFO = zlib.compress(b"")

# Ids per script call: keeps each script's time inside Redis short (a few ms) and memory bounded.
BULK_CHUNK = 500

ORPHAN_RETRY_ERROR = JobDataGone.reason
UNREADABLE_RETRY_ERROR = JobUnreadable.reason
QUEUE_DAMAGED_RETRY_ERROR = QueueKeyDamaged.reason
# The per-job error of each retry code that is neither done nor "another caller took it".
RETRY_ERRORS = {
    ORPHAN: ORPHAN_RETRY_ERROR,
    UNREADABLE: UNREADABLE_RETRY_ERROR,
    QUEUE_DAMAGED: QUEUE_DAMAGED_RETRY_ERROR,
}

# A registry member as Redis holds it (bytes when it is not UTF-8 text) or a job id.
Member = str | bytes


class FailedJobActions:
    """The write side of one queue's failed registry. With `dry_run` the same scripts classify
    every job as the real run would and write nothing, so a dry run predicts the real run."""

    def __init__(self, connection: Redis, queue_name: str, serializer: Any, dry_run: bool = False):
        self._connection = connection
        self._queue_name = queue_name
        self._serializer = serializer
        self._dry_run = dry_run
        self._registry_key = keys.registry_key("failed", queue_name)
        self._reader = RegistryReader(connection)
        self._requeue = connection.register_script(scripts.REQUEUE_DRY if dry_run else scripts.REQUEUE)
        self._delete = connection.register_script(scripts.DELETE_DRY if dry_run else scripts.DELETE)

    def requeue(self, job_ids: list[Member]) -> list[int]:
        """One code per id: REQUEUED, NOT_IN_REGISTRY, ORPHAN, UNREADABLE or QUEUE_DAMAGED."""
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

    def _finish_rate_limited(self, job_id: Member, code: int) -> int:
        # RQ 3 rate-limited jobs must reacquire a slot through RQ's own code path. The script
        # returned RATE_LIMITED only for a UTF-8 id, so it decodes.
        if code != RATE_LIMITED:
            return code
        job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
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
        if self._dry_run:
            return REQUEUED
        try:
            registry.requeue(job)
        except InvalidJobOperation:
            return NOT_IN_REGISTRY
        return REQUEUED

    def delete(self, job_ids: list[Member]) -> list[int]:
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
        bound = last.position
        seen: set[str | bytes] = set()
        cursor = None
        while True:
            _, entries = self._reader.after(self._registry_key, cursor, BULK_CHUNK)
            in_bound = [e for e in entries if e.position <= bound]
            if not in_bound:
                return
            cursor = (in_bound[-1].score, in_bound[-1].raw)
            fresh = [e for e in in_bound if e.member not in seen]
            seen.update(e.member for e in fresh)
            if fresh:
                yield total, fresh


def run_bulk(
    source: Any,
    act: Callable[[list[Member]], list[int]],
    errors_for: dict[int, str],
    done_code: int,
) -> BulkOutcome:
    """Walk the registry in chunks (source.chunks()) and act on each. Codes in neither
    `done_code` nor `errors_for` are ids another caller took first: they go in neither list."""
    total = 0
    done: list[str] = []
    errors: list[JobError] = []
    for seen_at_start, entries in source.chunks():
        total = seen_at_start
        codes = act([entry.member for entry in entries])
        for entry, code in zip(entries, codes, strict=True):
            if code == done_code:
                done.append(entry.job_id)
            elif code in errors_for:
                errors.append(JobError(entry.job_id, errors_for[code]))
    return BulkOutcome(total, done, errors)
