"""Another key's operation as a queue-limited key sees it (gateway/services/operations/seen.py):
the ids of jobs it may not see are out of the selector, the errors and every count."""

from __future__ import annotations

from gateway.services.domain.models import JobError
from gateway.services.operations.model import Operation
from gateway.services.operations.seen import needs_every_error, seen_as


def _operation(selector: dict, errors: list[str], **counts: int) -> Operation:
    return Operation(
        id="op",
        action="retry",
        queue="billing-eu",
        selector=selector,
        status="succeeded",
        started_at="t",
        finished_at=None,
        key="admin",
        errors=[JobError(job_id, "failed") for job_id in errors],
        **counts,
    )


def _counts(operation: Operation) -> tuple[int, ...]:
    return (operation.total, operation.done, operation.matched, operation.acted, operation.error_count)


def everyone(queue: str) -> bool:
    return True


def test_a_running_operation_loses_only_the_hidden_ids_it_examined():
    # h1 and h2 are hidden; the walk has examined the first three ids: a (acted), h1 (an error), b.
    operation = _operation(
        {"job_ids": ["a", "h1", "b", "h2"]}, ["h1"], total=4, done=3, matched=3, acted=2, error_count=1
    )
    seen = seen_as(operation, {"h1", "h2"}, everyone)
    assert seen.selector == {"job_ids": ["a", "b"]} and seen.errors == []
    assert _counts(seen) == (2, 2, 2, 2, 0)


def test_a_hidden_id_the_registry_held_was_acted_on_and_is_not_counted_as_acted():
    operation = _operation({"job_ids": ["h", "a"]}, [], total=2, done=2, matched=2, acted=2, error_count=0)
    assert _counts(seen_as(operation, {"h"}, everyone)) == (1, 1, 1, 1, 0)


def test_an_older_operation_that_kept_100_errors_counts_unlisted_hidden_ids_as_errors():
    """Before every error of named ids was kept, an operation listed its first 100: a hidden id
    not among them is taken for an error it did not keep, as named ids of other queues are."""
    named = [f"m{i}" for i in range(100)] + ["h1", "h2"]
    operation = _operation(
        {"job_ids": named}, named[:100], total=102, done=102, matched=102, acted=0, error_count=102
    )
    assert needs_every_error(operation)
    seen = seen_as(operation, {"h1", "h2"}, everyone, every_error=operation.errors)
    assert _counts(seen) == (100, 100, 100, 0, 100)
    assert [error.job_id for error in seen.errors] == named[:100]


def test_an_operation_over_the_registry_keeps_its_counts_but_counts_only_the_errors_seen():
    """Its counts are of the queue's registry entries, which the key's own listing shows too; its
    error_count left in the hidden errors its `errors` dropped (their number was the difference)."""
    operation = _operation({"all": True}, ["h", "a"], total=5, done=5, matched=5, acted=3, error_count=2)
    seen = seen_as(operation, {"h"}, everyone)
    assert _counts(seen) == (5, 5, 5, 3, 1) and [error.job_id for error in seen.errors] == ["a"]


def test_a_registry_operations_errors_beyond_those_listed_are_counted_as_seen():
    """More errors than the 100 listed: the kept ones are each counted when the reader may see
    their job; errors the operation did not keep (beyond ERRORS_KEPT, or an older gateway's
    operation that kept 100) are not counted, as nothing says whose they were."""
    kept = [f"j{i}" for i in range(150)]
    operation = _operation(
        {"all": True}, kept[:100], total=300, done=300, matched=300, acted=100, error_count=200
    )
    assert needs_every_error(operation)
    every = [JobError(job_id, "failed") for job_id in kept]
    seen = seen_as(operation, {"j0", "j120"}, everyone, every_error=every)
    assert _counts(seen) == (300, 300, 300, 100, 148)
    assert [error.job_id for error in seen.errors] == kept[1:101]
    assert seen_as(operation, set(), everyone, every_error=every).error_count == 150


def test_nothing_hidden_is_the_operation_itself():
    operation = _operation({"job_ids": ["a"]}, ["a"], total=1, done=1, matched=1, acted=0, error_count=1)
    assert seen_as(operation, set(), everyone) is operation
