"""Tracked operations as JobService uses them: start (or replay, or dry-run), read, list,
cancel. The work itself runs in runner.py; the state lives in Redis (store.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.errors import Conflict, InvalidParameter
from gateway.services.domain.rqtime import rq_now
from gateway.services.operations.dry_run import dry_counts
from gateway.services.operations.model import Operation, Selector
from gateway.services.operations.runner import OperationRunner
from gateway.services.operations.store import LIST_KEPT
from gateway.services.redis import keys
from gateway.services.redis.registry import RegistryReader

OPERATION_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
MAX_LISTED = 100
_LISTED_BATCH = MAX_LISTED + 1  # a page and whether one follows, when every one is visible


def validate_listed(first: int, argument: str = "first") -> int:
    """How many operations a listing may ask for; the error names the transport's `argument`
    (REST `?first=`, GraphQL `operations(limit:)`)."""
    if not 1 <= first <= MAX_LISTED:
        raise InvalidParameter(f"{argument} must be 1 to {MAX_LISTED}, got {first}")
    return first


def validate_operation_id(operation_id: str) -> str:
    if not OPERATION_ID_PATTERN.fullmatch(operation_id):
        raise InvalidParameter(f"Invalid operation id {operation_id[:64]!r}: 32 lowercase hex digits")
    return operation_id


class Operations:
    def __init__(self, connection: Redis, serializer: Any, runner: OperationRunner) -> None:
        self._connection = connection
        self._serializer = serializer
        self.runner = runner
        self._reader = RegistryReader(connection)

    def start(
        self,
        action: str,
        queue: str,
        selector: Selector,
        principal: str,
        idempotency_key: str | None,
        own_jobs_only: bool = False,
    ) -> tuple[Operation, bool]:
        """(the operation, whether it is new). It is running in a background thread of this
        process when new; a replayed idempotency key answers the earlier one as it is now."""
        total, bound = self._scope(queue, selector)
        token = self.runner.new_token()
        operation_id, new = self.runner.store.create(
            action, queue, selector, principal, total, bound, token, idempotency_key, own_jobs_only
        )
        if new:
            self.runner.run_in_background(operation_id, token)
        operation = self.runner.store.read(operation_id)
        if operation is None:  # a replay whose operation was deleted or damaged in Redis since
            raise Conflict(
                None,
                f"The operation this Idempotency-Key started ({operation_id[:64]!r}) can no longer be "
                "read (deleted or damaged in Redis); send the request with another Idempotency-Key",
            )
        return operation, new

    def failed_count(self, queue: str) -> int:
        return self._reader.last(keys.registry_key("failed", queue))[0]

    def _scope(self, queue: str, selector: Selector) -> tuple[int, str]:
        """(jobs the operation examines, the registry's last entry as a cursor: its walk's end)."""
        if selector.kind == "job_ids":
            return len(selector.value), ""
        total, last = self._reader.last(keys.registry_key("failed", queue))
        return total, last.cursor if last is not None else ""

    def dry_run(
        self, action: str, queue: str, selector: Selector, principal: str, own_jobs_only: bool = False
    ) -> Operation:
        """What the operation would report if it ran now (operations/dry_run.py): the same
        total, done, matched, acted, error_count and errors. Nothing is written."""
        total, bound = self._scope(queue, selector)
        counts = dry_counts(self._connection, self._serializer, action, queue, selector, bound, own_jobs_only)
        now = rq_now()
        return Operation(
            id="",
            action=action,
            queue=queue,
            selector=selector.as_dict,
            status="succeeded",
            total=total,
            done=counts.done,
            matched=counts.matched,
            acted=counts.acted,
            error_count=counts.error_count,
            started_at=now,
            finished_at=now,
            key=principal,
            dry_run=True,
            errors=counts.errors,
        )

    def get(self, operation_id: str) -> Operation | None:
        return self.runner.store.read(validate_operation_id(operation_id))

    def get_many(self, operation_ids: list[str]) -> dict[str, Operation]:
        """The operations of these ids that exist, by id, in one round trip. An id that is not an
        operation's (a damaged audit record's) names none."""
        ids = list(dict.fromkeys(i for i in operation_ids if OPERATION_ID_PATTERN.fullmatch(i)))
        return {op.id: op for op in self.runner.store.read_many(ids) if op is not None}

    def page(
        self, first: int, after: str | None, visible: Callable[[Operation], bool]
    ) -> tuple[list[Operation], str | None]:
        """Up to `first` operations the caller may see, newest first, after the operation
        `after`, and the cursor of the next page (None: no more). Read in batches so that a
        queue-limited key's page is full however many of the others' operations lie between."""
        validate_listed(first)
        if after is not None:
            validate_operation_id(after)
            # An operation the caller may not see is, as a cursor, as unknown as no operation:
            # else its id would answer a page where a made-up one is refused (a probe of ids).
            anchor = self.runner.store.read(after)
            if anchor is not None and not visible(anchor):
                raise _unknown_cursor(after)
        found: list[Operation] = []
        cursor = after
        while len(found) <= first:
            ids = self.runner.store.listed_after(cursor, _LISTED_BATCH)
            if ids is None:
                raise _unknown_cursor(str(after))
            found += [op for op in self.runner.store.read_many(ids) if op is not None and visible(op)]
            if len(ids) < _LISTED_BATCH:
                break
            cursor = ids[-1]
        page = found[:first]
        return page, page[-1].id if len(found) > first else None

    def cancel(self, operation_id: str) -> bool:
        canceled = self.runner.store.cancel(validate_operation_id(operation_id))
        if canceled:
            # The runner records the finish when it stops on the cancel; with none, this process.
            self.runner.audit_canceled_unheld(operation_id)
        return canceled


def _unknown_cursor(after: str) -> InvalidParameter:
    return InvalidParameter(
        f"Unknown cursor {after!r}: not an operation listed now (the list keeps the latest "
        f"{LIST_KEPT}); start again without it"
    )
