"""Retry and delete failed jobs. Each job's claim and action run in one Lua script, so two
callers never both act on one job and a crash between claim and enqueue cannot happen."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import BaseRegistry, FailedJobRegistry

from gateway.services.domain.models import BulkOutcome
from gateway.services.domain.outcome import Outcome
from gateway.services.domain.rqtime import rq_now
from gateway.services.domain.tally import Tally
from gateway.services.redis import keys, scripts
from gateway.services.redis.registry import Entry, RegistryReader, now_timestamp, walk_registry

# What RQ's requeue writes for exc_info: its `job._exc_info = ''`, compressed by Job.to_dict.
_EMPTY_EXC_INFO = zlib.compress(b"")

# Ids per script call: keeps each script's time inside Redis short (a few ms) and memory bounded.
BULK_CHUNK = 500
_OUTCOMES = {int(outcome): outcome for outcome in Outcome}  # a script's code: a dict lookup, not Enum()

# A registry member as Redis holds it (bytes when it is not UTF-8 text) or a job id.
Member = str | bytes


class FailedJobActions:
    """The write side of one queue's failed registry. With `dry_run` the same scripts classify
    every job as the real run would and write nothing, so a dry run predicts the real run."""

    def __init__(
        self,
        connection: Redis,
        queue_name: str,
        serializer: Any,
        dry_run: bool = False,
        own_jobs_only: bool = False,
    ):
        self._connection = connection
        self._queue_name = queue_name
        # A queue-limited caller's bulk actions take only the queue's own jobs: an entry whose job
        # names another origin or none (an orphan) is left as if absent, as job_access.py answers
        # that caller for one job.
        self._only_origin = queue_name if own_jobs_only else ""
        self._serializer = serializer
        self._dry_run = dry_run
        self._registry_key = keys.registry_key("failed", queue_name)
        self._keys = [self._registry_key, keys.history_seen_key("failed", queue_name)]
        self._reader = RegistryReader(connection)
        self.requeue_script = scripts.REQUEUE_DRY if dry_run else scripts.REQUEUE
        self.delete_script = scripts.DELETE_DRY if dry_run else scripts.DELETE
        self._requeue = connection.register_script(self.requeue_script)
        self._delete = connection.register_script(self.delete_script)

    @property
    def only_origin(self) -> str:
        """The queue whose own jobs alone are acted on ('' for any: an unrestricted caller)."""
        return self._only_origin

    @property
    def registry_key(self) -> str:
        return self._registry_key

    @property
    def keys(self) -> list[Any]:
        """KEYS of both scripts: the failed registry and the history's seen set of it."""
        return self._keys

    def requeue(self, job_ids: Sequence[Member]) -> list[Outcome]:
        """One code per id: REQUEUED, NOT_IN_REGISTRY, ORPHAN, UNREADABLE or QUEUE_DAMAGED."""
        return self.requeued(job_ids, self._requeue(keys=self._keys, args=self.requeue_args(job_ids)))

    def requeue_args(self, job_ids: Sequence[Member]) -> list[Any]:
        return requeue_args(now_timestamp(), self._queue_name, job_ids, self._only_origin)

    def requeued(self, job_ids: Sequence[Member], codes: list[int]) -> list[Outcome]:
        """The outcomes of the requeue script's codes for `job_ids`, once RQ's own requeue has
        taken the rate-limited jobs the script left to it."""
        outcomes = [_OUTCOMES[code] for code in codes]
        if Outcome.RATE_LIMITED in outcomes:
            outcomes = [self._finish_rate_limited(m, o) for m, o in zip(job_ids, outcomes, strict=True)]
        return outcomes

    def _finish_rate_limited(self, job_id: Member, code: Outcome) -> Outcome:
        if code != Outcome.RATE_LIMITED:
            return code
        # The script returned RATE_LIMITED only for a UTF-8 id, so it decodes.
        job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
        registry = FailedJobRegistry(
            self._queue_name, connection=self._connection, serializer=self._serializer
        )
        outcome = rq_requeue(registry, job_id, self._dry_run)
        if outcome == Outcome.DONE and not self._dry_run:
            # As requeue.lua does for the jobs it takes: failing again, the job counts again.
            self._connection.zrem(self._keys[1], job_id)
        return outcome

    def delete(self, job_ids: Sequence[Member]) -> list[Outcome]:
        """One code per id: DELETED (orphans included) or NOT_IN_REGISTRY."""
        return self.deleted(job_ids, self._delete(keys=self._keys, args=self.delete_args(job_ids)))

    def delete_args(self, job_ids: Sequence[Member]) -> list[Any]:
        return delete_args(now_timestamp(), job_ids, self._only_origin)

    def deleted(self, job_ids: Sequence[Member], codes: list[int]) -> list[Outcome]:
        return [_OUTCOMES[code] for code in codes]

    def chunks(self) -> Iterator[tuple[int, list[Entry]]]:
        """Live entries in registry order, BULK_CHUNK at a time, up to the last entry present
        when the walk began, each once (registry.walk_registry)."""
        return walk_registry(self._reader, self._registry_key, BULK_CHUNK)


def requeue_args(
    now: int, fallback_origin: str, job_ids: Sequence[Member], only_origin: str = ""
) -> list[Any]:
    """ARGV of scripts.REQUEUE. `now` -1 counts every registry entry as live. `only_origin`:
    leave every job whose origin is another queue as if absent ('' acts on any)."""
    return [
        now,
        rq_now(),
        keys.JOB_PREFIX,
        keys.QUEUE_PREFIX,
        keys.QUEUES_SET,
        fallback_origin,
        _EMPTY_EXC_INFO,
        *keys.DEPENDENCIES_KEY_PARTS,
        only_origin,
        *job_ids,
    ]


def delete_args(now: int, job_ids: Sequence[Member], only_origin: str = "") -> list[Any]:
    """ARGV of scripts.DELETE: the groups' keys, the only origin (as requeue_args), the keys of
    each job to delete, then "--", then the ids."""
    args: list[Any] = [now, keys.GROUP_PREFIX, keys.GROUPS_SET, only_origin]
    for prefix, suffix in keys.JOB_KEY_PARTS:
        args.extend((prefix, suffix))
    return [*args, "--", *job_ids]


def rq_requeue(registry: BaseRegistry, job_id: str, dry_run: bool = False) -> Outcome:
    """Requeue one RQ 3 rate-limited job through RQ's own requeue, which reacquires its slot
    (our script leaves such jobs alone). Unlike our script, RQ claims (ZREM) and enqueues in
    two steps, so a job another caller requeued meanwhile answers NOT_IN_REGISTRY."""
    try:
        job = Job.fetch(job_id, connection=registry.connection, serializer=registry.serializer)
    except NoSuchJobError:
        return Outcome.ORPHAN
    except RedisError:
        raise
    except Exception:
        return Outcome.UNREADABLE
    if dry_run:
        return Outcome.REQUEUED
    try:
        registry.requeue(job)
    except InvalidJobOperation:
        return Outcome.NOT_IN_REGISTRY
    return Outcome.REQUEUED


def run_bulk(
    source: Any,
    act: Callable[[list[Member]], list[Outcome]],
    errors_for: dict[int, str],
    done_code: Outcome,
) -> BulkOutcome:
    """Walk the registry in chunks (source.chunks()) and act on each, tallied (tally.py)."""
    total = 0
    tally = Tally(done_code, errors_for)
    for seen_at_start, entries in source.chunks():
        total = seen_at_start
        tally.add([entry.job_id for entry in entries], act([entry.member for entry in entries]))
    return BulkOutcome(total, tally.done, tally.errors)
