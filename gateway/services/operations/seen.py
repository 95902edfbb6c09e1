"""Another key's operation as a queue-limited key sees it (facade/operations.py): an unrestricted
key's operation on one of its queues may name jobs of other queues (a `job_ids` selector, and so
its errors) or another queue in a search selector. The reader gets the operation as if those ids
had not been named: out of the selector and the errors, and out of every count, so that nothing
in the answer tells it how many jobs of other queues there were (README "Roles and API keys").

How each count loses a hidden id: a named-ids walk (chunks.IdsWalk) takes the ids in the
selector's order, so the first `done` were examined; each examined id is matched, and is either
an error (the operation keeps every error of named ids: chunks.ChunkAction) or acted on.

A walk of the registry (all, a filter, a group, a query) counts the queue's entries, which the
reader's own listing shows too, so `total`, `done`, `matched` and `acted` stay; its errors are
counted as the reader may see them: the errors it kept (up to ERRORS_KEPT) of jobs the reader may
see. Exact while the operation kept every error; beyond, the errors it did not keep are not
counted, since nothing says whose jobs they were (a count that may fall short, never one that
counts a job of another queue)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from gateway.errors import InvalidParameter
from gateway.services.domain.models import JobError
from gateway.services.domain.search_query import parse_query
from gateway.services.operations.model import ERRORS_SHOWN, Operation


def needs_every_error(operation: Operation) -> bool:
    """Whether seen_as needs the errors the operation does not list: it counts more errors than
    it lists (OperationStore.every_error reads them)."""
    return operation.error_count > len(operation.errors)


def walks_registry(operation: Operation) -> bool:
    """Whether the operation walks the failed registry rather than named ids."""
    return not isinstance(operation.selector.get("job_ids"), list)


def seen_as(
    operation: Operation,
    hidden: set[str],
    may_access_queue: Callable[[str], bool],
    every_error: Sequence[JobError] | None = None,
) -> Operation:
    """The operation as a key sees it: the ids `hidden` left out of its selector, errors and
    counts (`every_error`: all its errors, when needs_every_error; `hidden` covers their ids),
    and a search selector's query as None when its `queue:` terms name a queue the key may not
    access (an unrestricted key may walk a queue's entries of another queue's jobs)."""
    selector = operation.selector
    named = selector.get("job_ids")
    errors = list(every_error) if every_error is not None else operation.errors
    shown = operation
    if isinstance(named, list) and hidden.intersection(named):
        selector = {**selector, "job_ids": [i for i in named if i not in hidden]}
        shown = _counted_without(operation, named, hidden, errors)
    elif not isinstance(named, list):
        seen_errors = sum(1 for error in errors if error.job_id not in hidden)
        if seen_errors != operation.error_count:
            shown = replace(operation, error_count=seen_errors)
    if isinstance(selector.get("query"), str) and not _names_only(selector["query"], may_access_queue):
        selector = {**selector, "query": None}
    kept = [error for error in errors if error.job_id not in hidden][:ERRORS_SHOWN]
    if shown is operation and selector is operation.selector and kept == operation.errors:
        return operation
    return replace(shown, selector=selector, errors=kept)


def _counted_without(
    operation: Operation, named: list[object], hidden: set[str], errors: Sequence[JobError]
) -> Operation:
    examined = [job_id for job_id in named[: operation.done] if job_id in hidden]
    erred = {error.job_id for error in errors}
    # An operation started by an older gateway kept only the first ERRORS_SHOWN errors: an
    # examined id not among them is taken for one of the errors it did not keep, while any are
    # left (named ids of other queues are errors, unless the registry held them).
    unlisted = max(0, operation.error_count - len(errors))
    hidden_errors = 0
    for job_id in examined:
        if job_id in erred:
            hidden_errors += 1
        elif unlisted:
            unlisted -= 1
            hidden_errors += 1
    total_hidden = sum(1 for job_id in named if job_id in hidden)
    return replace(
        operation,
        total=operation.total - total_hidden,
        done=operation.done - len(examined),
        matched=max(0, operation.matched - len(examined)),
        # A rate-limited job RQ's requeue has not taken yet is counted as acted a little early.
        acted=max(0, operation.acted - (len(examined) - hidden_errors)),
        error_count=max(0, operation.error_count - hidden_errors),
    )


def _names_only(query: str, may_access_queue: Callable[[str], bool]) -> bool:
    try:
        return all(may_access_queue(name) for name in parse_query(query).values("queue"))
    except InvalidParameter:
        return False  # not a query of ours (damaged state): shown to no limited key
