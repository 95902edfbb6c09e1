"""Filtered, dry-run and selective bulk actions on a failed registry, on top of failed_actions.py.

Every write still goes through FailedJobActions' per-job Lua claim, so a job that matches a
filter and is retried by another caller at the same moment is enqueued once. A dry run walks the
same entries through the same scripts with their writes skipped (FailedJobActions(dry_run=True)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gateway.errors import FailedJobNotFound, InvalidParameter
from gateway.services.domain.models import BulkOutcome
from gateway.services.domain.outcome import Outcome
from gateway.services.domain.tally import Tally
from gateway.services.domain.validation import validate_job_id
from gateway.services.reads.filtered import FilteredView
from gateway.services.redis.registry import Entry, once_each
from gateway.services.writes.failed_actions import BULK_CHUNK

MAX_SELECTED_IDS = 1000

Act = Callable[[list[str]], list[Outcome]]


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
        selected = 0
        walk = self._view.walk(bound=bound)
        for fresh in once_each(matches for _, matches in walk):
            selected += len(fresh)
            yield selected, fresh


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
    done_code: Outcome,
    hidden: frozenset[str] | set[str] = frozenset(),
) -> BulkOutcome:
    """Act on explicit ids in chunks. Each id ends in exactly one list: an id not (or no longer)
    in the failed registry is an error here, since the caller named it. `hidden` ids (jobs the
    caller's key may not see) are not acted on, and answer as ids not in the registry."""
    ids = selected_ids(job_ids)
    # NOT_IN_REGISTRY, the only other code either action returns, is an error for a named id.
    tally = Tally(done_code, errors_for, missing=lambda job_id: FailedJobNotFound(job_id).message)
    for start in range(0, len(ids), BULK_CHUNK):
        chunk = ids[start : start + BULK_CHUNK]
        visible = [job_id for job_id in chunk if job_id not in hidden]
        codes = dict(zip(visible, act(visible), strict=True)) if visible else {}
        tally.add(chunk, [codes.get(job_id, Outcome.NOT_IN_REGISTRY) for job_id in chunk])
    return BulkOutcome(len(ids), tally.done, tally.errors)
