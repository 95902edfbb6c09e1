"""Tracked operations (issue 13 items 1 and 2): start, read, list and cancel the long bulk
actions that services/operations/ runs, and the view of a shared operation read."""

from __future__ import annotations

from typing import Any

from gateway.errors import Forbidden, OperationNotFound
from gateway.services.access import action, note_operation, public, read
from gateway.services.facade.core import ServiceCore
from gateway.services.job_access import unseen_jobs
from gateway.services.operations.model import (
    Operation,
    OperationSighting,
    Selector,
    named_ids,
    validate_action,
)
from gateway.services.operations.runner import OperationRunner
from gateway.services.operations.seen import needs_every_error, seen_as, walks_registry
from gateway.services.operations.tracker import Operations
from gateway.services.principal import Role
from gateway.services.reads.search_page import check_named_queues
from gateway.services.redis.backend import backend_call
from gateway.services.redis.origins import read_places


class TrackedOperations(ServiceCore):
    _operations: Operations | None = None

    @public
    def use_operations(self, audit: Any = None, max_rate: float = 0.0) -> None:
        """Run operations with this audit trail and jobs/s cap (`--bulk-max-rate`); called once
        by the app, before the service is scoped to requests (the copies share it)."""
        runner = OperationRunner(self.connection, self.serializer, self.health, audit, max_rate)
        self._operations = Operations(self.connection, self.serializer, runner)

    @property
    def operations_runner(self) -> OperationRunner:
        return self._tracker.runner

    @property
    def _tracker(self) -> Operations:
        if self._operations is None:
            self.use_operations()
        assert self._operations is not None
        return self._operations

    @public
    def start_operation(
        self,
        action: str,
        selector: Any,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Operation, bool]:
        """(the operation, whether it is new): retry needs an operator, delete an admin, as
        retry-all and clear; each is checked and audited as its own action."""
        if validate_action(action) == "retry":
            return self.start_retry_operation(selector, queue, dry_run, idempotency_key)
        return self.start_delete_operation(selector, queue, dry_run, idempotency_key)

    @action("operation_retry", Role.OPERATOR)
    @backend_call()
    def start_retry_operation(
        self,
        selector: Any,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Operation, bool]:
        return self._start("retry", selector, queue, dry_run, idempotency_key)

    @action("operation_delete", Role.ADMIN)
    @backend_call()
    def start_delete_operation(
        self,
        selector: Any,
        queue: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Operation, bool]:
        return self._start("delete", selector, queue, dry_run, idempotency_key)

    def _start(
        self, action_name: str, selector: Any, queue: str | None, dry_run: bool, idempotency_key: str | None
    ) -> tuple[Operation, bool]:
        parsed = Selector.parse(selector)
        if parsed.kind == "query":  # its queue: terms, as a search checks them
            check_named_queues(parsed.query, None, self._check_queue)
        name = self.queue_name(queue)
        principal = self._principal.name if self._principal is not None else "-"
        if parsed.kind != "job_ids":
            self._known_if_empty(queue, not self._tracker.failed_count(name))
        if dry_run:  # answers what the real run would, refusals included
            return self._tracker.dry_run(action_name, name, parsed, principal, self._own_jobs_only), False
        operation, new = self._tracker.start(
            action_name, name, parsed, principal, idempotency_key, self._own_jobs_only
        )
        note_operation(operation.id, operation.queue, replayed=not new)
        return operation, new

    @read()
    @backend_call()
    def operation(self, operation_id: str) -> Operation:
        return self._shown(self._visible(operation_id))

    def _visible(self, operation_id: str) -> Operation:
        found = self._tracker.get(operation_id)
        if found is None or not self.may_access_queue(found.queue):
            raise OperationNotFound(operation_id)
        return found

    def _shown(self, operation: Operation) -> Operation:
        """The operation without the ids of jobs the caller may not see: an unrestricted key's
        operation on a queue may name jobs of other queues (a job_ids selector, their errors)."""
        return self._shown_all([operation])[0]

    def _seen_as(self, operation: Operation, hidden: set[str]) -> Operation:
        """seen_as, with every error of the operation read when its counts need them: a walk of
        the registry counts only the errors the caller may see, so their jobs are looked up too."""
        named = operation.selector.get("job_ids")
        every = None
        if needs_every_error(operation) and walks_registry(operation):
            every = self._tracker.runner.store.every_error(operation.id)
            hidden = hidden | self._unseen([error.job_id for error in every[len(operation.errors) :]])
        elif needs_every_error(operation) and isinstance(named, list) and hidden.intersection(named):
            every = self._tracker.runner.store.every_error(operation.id)
        return seen_as(operation, hidden, self.may_access_queue, every)

    def _acted_seen(self, operation_ids: list[str]) -> dict[str, int]:
        """The jobs each operation acted on, as the caller's view of it counts them, by id; those
        no longer kept are left out (the audit trail's finish records, AccessBound). In two round
        trips, however many operations (and one or two more for each that needs its every error)."""
        found = list(self._tracker.get_many(operation_ids).values())
        return {operation.id: operation.acted for operation in self._shown_all(found)}

    def _shown_all(self, operations: list[Operation]) -> list[Operation]:
        """_shown of each, with the jobs of all of them looked up in one round trip."""
        others = [operation for operation in operations if self._others(operation)]
        hidden = self._unseen([job_id for operation in others for job_id in named_ids(operation)])
        return [self._seen_as(op, hidden) if self._others(op) else op for op in operations]

    def _others(self, operation: Operation) -> bool:
        """Whether the operation is shown through seen_as: another key's, to a limited key. The
        ids a key named itself are its own (a job of another queue it named answers as a missing
        one, in its errors too), so its own operations are shown as they are."""
        return self._own_jobs_only and operation.key != self._principal_name

    @read()
    @backend_call()
    def operations(self, first: int = 20, after: str | None = None) -> list[Operation]:
        """The latest operations, newest first, on the queues the key may access (after the
        operation `after`, when given)."""
        return self._page(first, after)[0]

    @read()
    @backend_call()
    def operations_page(
        self, first: int = 20, after: str | None = None
    ) -> tuple[list[Operation], str | None]:
        """operations(), and the cursor of the next page (None: no more)."""
        return self._page(first, after)

    def _page(self, first: int, after: str | None) -> tuple[list[Operation], str | None]:
        found, cursor = self._tracker.page(first, after, lambda op: self.may_access_queue(op.queue))
        return self._shown_all(found), cursor

    @action("operation_cancel", Role.OPERATOR)
    @backend_call()
    def cancel_operation(self, operation_id: str) -> Operation:
        """Stop an operation before its next chunk (a delete operation needs an admin, as its
        start did). Canceling one that has ended changes nothing and answers it as it is."""
        found = self._visible(operation_id)
        note_operation(found.id, found.queue)
        principal = self._principal
        if found.action == "delete" and principal is not None and (principal.role or 0) < Role.ADMIN:
            raise Forbidden(f"API key {principal.name!r} may not cancel a delete operation; it needs admin")
        self._tracker.cancel(operation_id)
        return self.operation(operation_id)

    @read()
    @backend_call()
    def sight_operation(self, operation_id: str) -> OperationSighting:
        """An operation and where the jobs it names are: its live stream's one shared read."""
        found = self._visible(operation_id)
        ids = named_ids(found)
        every = None
        if needs_every_error(found) and walks_registry(found):
            # A limited subscriber counts only the errors it may see (seen.py): where each is.
            every = tuple(self._tracker.runner.store.every_error(found.id))
            ids = list(dict.fromkeys([*ids, *(error.job_id for error in every)]))
        places = tuple(read_places(self.connection, ids)) if ids else ()
        # Its errors beyond those listed, when some limited subscriber may have ids left out of
        # its counts: a named job of another queue than the operation's (seen.py).
        foreign = any(place.exists and place.queue != found.queue for place in places)
        if every is None and foreign and needs_every_error(found):
            every = tuple(self._tracker.runner.store.every_error(found.id))
        return OperationSighting(found, places, every)

    @read()
    def view_operation(self, sighting: OperationSighting) -> Operation:
        """A shared read of an operation (its live stream) as this caller sees it: not found
        when the key may not access its queue, as `operation` answers, and without the ids of
        jobs it may not see."""
        operation = sighting.operation
        if not self.may_access_queue(operation.queue):
            raise OperationNotFound(operation.id)
        if not self._others(operation):
            return operation
        hidden = unseen_jobs(self._principal, list(sighting.places))
        return seen_as(operation, hidden, self.may_access_queue, sighting.every_error)
