"""An operation's state as read back from Redis (store.py keeps it): its request, the operation
with its counts, and its error entries, each checked, so a damaged state is refused, never
guessed at."""

from __future__ import annotations

from gateway.errors import InvalidInput
from gateway.services.domain import json_text
from gateway.services.domain.models import JobError
from gateway.services.domain.outcome import RETRY_ERRORS, Outcome
from gateway.services.operations.model import SELECTOR_KINDS, STATUSES, Operation, Selector, validate_action
from gateway.services.redis import damaged

# The codes operation_chunk.lua lists as errors: a retry's refusals, and for named ids one that
# is not (or no longer) in the failed registry, as retry-selected answers it.
NOT_IN_REGISTRY_MESSAGE = "not found in failed jobs registry"
ERROR_MESSAGES: dict[int, str] = {**RETRY_ERRORS, Outcome.NOT_IN_REGISTRY: NOT_IN_REGISTRY_MESSAGE}


def stored_request(raw: dict[str, str]) -> tuple[str, Selector]:
    """The action and selector an operation's state holds, as start checked them; ValueError
    when they are damaged (a runner never guesses: an unknown kind is not every job)."""
    try:
        return validate_action(raw["action"]), Selector.parse(json_text.loads(raw["selector"]))
    except (KeyError, InvalidInput) as error:
        raise ValueError(f"the operation's request cannot be read back: {error!r}") from error


def operation_from_state(operation_id: str, raw: dict[str, str], errors: list[bytes]) -> Operation:
    """Raises KeyError, ValueError, TypeError or InvalidInput on a state that is not an operation's:
    unparsable, or what none holds (an unknown status, a negative count, another one's id)."""
    selector = json_text.loads(raw["selector"])
    if not isinstance(selector, dict) or len(selector) != 1 or set(selector) - set(SELECTOR_KINDS):
        raise ValueError(f"not a selector: {raw['selector'][:100]!r}")
    if raw["id"] != operation_id:
        raise ValueError(f"the id field names another operation: {raw['id'][:100]!r}")
    if raw["status"] not in STATUSES:
        raise ValueError(f"not a status: {raw['status'][:100]!r}")
    counted = ("total", "done", "matched", "acted", "error_count")
    total, done, matched, acted, error_count = (int(raw.get(name, "0")) for name in counted)
    if min(total, done, matched, acted, error_count) < 0:
        raise ValueError("a negative count")
    return Operation(
        id=raw["id"],
        action=validate_action(raw["action"]),
        queue=raw["queue"],
        selector=selector,
        status=raw["status"],
        total=total,
        done=done,
        matched=matched,
        acted=acted,
        error_count=error_count,
        started_at=raw["started_at"],
        finished_at=raw.get("finished_at") or None,
        key=raw["key"],
        errors=[error_entry(damaged.shown(entry)) for entry in errors],
    )


def error_entry(entry: str) -> JobError:
    """An error entry, "code id"; a damaged one is shown as it is, with the generic message."""
    code, _, job_id = entry.partition(" ")
    try:
        return JobError(job_id, ERROR_MESSAGES.get(int(code), "failed"))
    except ValueError:
        return JobError(entry, "failed")


def recorded_error(code: int, member: str | bytes) -> JobError:
    """The error a chunk's `record` (prelude_operation.lua) lists for `member`, as read back."""
    raw = member if isinstance(member, bytes) else member.encode()
    return error_entry(damaged.shown(b"%d " % code + raw))
