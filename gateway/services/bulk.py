"""Filtered, dry-run and selective bulk actions on a failed registry, on top of actions.py.

Every write still goes through FailedJobActions' per-job Lua claim, so a job that matches a
filter and is retried by another caller at the same moment is enqueued once. A dry run walks the
same entries and predicts each outcome with reads only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq.job import Job

from gateway.errors import FailedJobNotFound, InvalidParameter
from gateway.services import keys
from gateway.services.actions import (
    BULK_CHUNK,
    DELETED,
    NOT_IN_REGISTRY,
    ORPHAN,
    REQUEUED,
    UNREADABLE,
)
from gateway.services.filtered import FilteredView
from gateway.services.models import BulkOutcome, JobError
from gateway.services.registry import Entry
from gateway.services.validation import validate_job_id

MAX_SELECTED_IDS = 1000

Act = Callable[[list[str]], list[int]]


class FilteredChunks:
    """Matching entries in chunks, for run_bulk: the walk stops at the last entry present when
    it began, and yields each id once. The total it reports is the number of matches so far, so
    a filtered bulk answer's total_failed counts the jobs the filter selected."""

    def __init__(self, view: FilteredView) -> None:
        self._view = view

    def chunks(self) -> Iterator[tuple[int, list[Entry]]]:
        _, bound = self._view.last_bound()
        if bound is None:
            return
        seen: set[str] = set()
        for _, matches in self._view.walk(bound=bound):
            fresh = [m.entry for m in matches if m.entry.job_id not in seen]
            seen.update(entry.job_id for entry in fresh)
            if fresh:
                yield len(seen), fresh


def dry_requeue(connection: Redis, serializer: Any) -> Act:
    """Predicts the codes FailedJobActions.requeue would return, reading only."""

    def act(job_ids: list[str]) -> list[int]:
        with connection.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hmget(keys.job_key(job_id), "status", "data", "rate_limit_key")
                pipe.exists(keys.job_key(job_id))
            replies = pipe.execute()
        codes = []
        for index, job_id in enumerate(job_ids):
            (status, data, rate_limit_key), exists = replies[2 * index], replies[2 * index + 1]
            if status is None and data is None and not exists:
                codes.append(ORPHAN)
            elif rate_limit_key:
                codes.append(_rq_can_load(connection, job_id, serializer))
            else:
                codes.append(REQUEUED)
        return codes

    return act


def _rq_can_load(connection: Redis, job_id: str, serializer: Any) -> int:
    # Rate-limited jobs are requeued through RQ, which must be able to load them.
    try:
        Job.fetch(job_id, connection=connection, serializer=serializer)
    except RedisError:
        raise
    except Exception:
        return UNREADABLE
    return REQUEUED


def dry_delete(job_ids: list[str]) -> list[int]:
    """Delete removes every entry it finds, orphans included."""
    return [DELETED] * len(job_ids)


def selected_ids(job_ids: list[str]) -> list[str]:
    """Validated ids, each once, in the order given."""
    if len(job_ids) > MAX_SELECTED_IDS:
        raise InvalidParameter(f"job_ids may hold at most {MAX_SELECTED_IDS} ids, got {len(job_ids)}")
    for job_id in job_ids:
        validate_job_id(job_id)
    return list(dict.fromkeys(job_ids))


def run_selected(
    job_ids: list[str],
    act: Act,
    errors_for: dict[int, str],
    done_code: int,
    hidden: frozenset[str] | set[str] = frozenset(),
) -> BulkOutcome:
    """Act on explicit ids in chunks. Each id ends in exactly one list: an id not (or no longer)
    in the failed registry is an error here, since the caller named it. `hidden` ids (jobs the
    caller's key may not see) are not acted on, and answer as ids not in the registry."""
    ids = selected_ids(job_ids)
    done: list[str] = []
    errors: list[JobError] = []
    for start in range(0, len(ids), BULK_CHUNK):
        chunk = ids[start : start + BULK_CHUNK]
        visible = [job_id for job_id in chunk if job_id not in hidden]
        codes = dict(zip(visible, act(visible), strict=True)) if visible else {}
        for job_id in chunk:
            code = codes.get(job_id, NOT_IN_REGISTRY)
            if code == done_code:
                done.append(job_id)
            elif code in errors_for:
                errors.append(JobError(job_id, errors_for[code]))
            else:  # NOT_IN_REGISTRY, the only other code either action returns
                errors.append(JobError(job_id, FailedJobNotFound(job_id).message))
    return BulkOutcome(len(ids), done, errors)
