"""A tracked operation's dry run: the operation's own walk, each chunk classified by the dry
twins of the scripts the real chunks run (FailedJobActions with dry_run, which writes nothing),
counted as the real chunks count (prelude_operation.lua's `record`). So on the same data a dry
run reports the `total`, `done`, `matched`, `acted`, `error_count` and `errors` the real
operation would: ids not in the registry, orphans and damaged jobs included."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from gateway.services.domain.models import JobError
from gateway.services.domain.outcome import Outcome
from gateway.services.operations.model import ERRORS_SHOWN, Selector
from gateway.services.operations.readback import recorded_error
from gateway.services.operations.steps import counted_errors
from gateway.services.operations.walks import walk_for
from gateway.services.writes.failed_actions import BULK_CHUNK, FailedJobActions


@dataclass
class DryCounts:
    done: int = 0
    matched: int = 0
    acted: int = 0
    error_count: int = 0
    errors: list[JobError] = field(default_factory=list)


def dry_counts(
    connection: Redis,
    serializer: Any,
    action: str,
    queue: str,
    selector: Selector,
    bound: str,
    own_jobs_only: bool = False,
) -> DryCounts:
    """What the operation would count, walking what it would walk (up to `bound`, the failed
    registry's last entry now) and classifying each chunk as its Lua call would (`own_jobs_only`:
    as a queue-limited caller's operation, the queue's own jobs only)."""
    actions = FailedJobActions(connection, queue, serializer, dry_run=True, own_jobs_only=own_jobs_only)
    act = actions.requeue if action == "retry" else actions.delete
    errors = set(counted_errors(action, selector.kind))
    counts = DryCounts()
    for chunk in walk_for(connection, serializer, queue, selector, bound).chunks("", lambda: BULK_CHUNK):
        codes = act(chunk.members) if chunk.members else []
        counts.done += chunk.examined
        counts.matched += len(codes)
        for member, code in zip(chunk.members, codes, strict=True):
            if code == Outcome.NOT_IN_REGISTRY and code not in errors:
                counts.matched -= 1  # absent to the caller: not matched (prelude_operation.lua)
            elif code == Outcome.DONE:
                counts.acted += 1
            elif code in errors:
                counts.error_count += 1
                if len(counts.errors) < ERRORS_SHOWN:
                    counts.errors.append(recorded_error(code, member))
    return counts
