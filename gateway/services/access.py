"""Who may do what: the one guard every JobService call goes through, whichever transport made
it, and the declarations it reads. Who the caller is (roles, principals, the request scope) is
principal.py.

Each public JobService method declares its access in one line:

    @action("retry", Role.OPERATOR)   a mutation: role + queue check, and one audit record
    @read(Role.VIEWER)                a read: role + queue check, payloads hidden if configured
    @public                           no check (health probe, pure helpers)

The transports bind a principal to the service per request (`JobService.scoped`); an unbound
service (tests, library use) is unrestricted and not audited. The queue a call acts on is its
`queue` argument (None = the default queue), or the argument named by `queue_arg=`. A call
without one is checked on the origin of every job it returns (reads) or refused to queue-limited
keys (mutations), so a new operation cannot silently escape the queue patterns (read_scope.py).

An operation addressed by job id (a `job_id` argument) is checked on the job's own queue instead,
by job_access.authorise_job, which the operation calls once it has read where the job is; one
with a `job_ids` argument drops the ids job_access.hidden_jobs names. The guard fails an
operation with either argument that returns without that check, so a new one cannot skip it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.errors import BackendUnavailable, Forbidden, InvalidInput, Unauthenticated
from gateway.services.acted import count_acted
from gateway.services.audit import DRY_RUN_SUFFIX, REPLAY_SUFFIX, AuditRecord, outcome_of
from gateway.services.principal import RequestScope, Role
from gateway.services.read_scope import shown_to
from gateway.services.refusals import refuse_unauthenticated

T = TypeVar("T")
ACCESS_ATTRIBUTE = "__gateway_access__"
# The guarded call running: the operations it calls on the service are part of it, checked and
# audited once, as the outer one, and the job check (job_access.py) reports to it. A context
# variable, not a field of the service: one GraphQL request runs several resolvers at once on
# the same bound service, each in its own context.
_current: ContextVar[_Guarded | None] = ContextVar("current_guarded_call", default=None)


@dataclass(frozen=True)
class Access:
    """The declaration a method carries: its action name, the role it needs, whether it is audited."""

    action: str
    role: Role | None
    audited: bool
    ids_from_result: Callable[[Any], Iterable[str]] | None = None
    # Whether the ids from the result are all jobs acted on (rq_gateway_jobs_acted_total); a
    # replay's are the job replayed and the job it made, and only the first was acted on.
    result_ids_acted: bool = True


def action(
    name: str,
    role: Role,
    ids_from_result: Callable[[Any], Iterable[str]] | None = None,
    queue_arg: str = "queue",
    result_ids_acted: bool = True,
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Declare a mutation. Its audit record lists the `job_id`/`job_ids` arguments, or, when
    given, the ids `ids_from_result(result)` returns (e.g. the jobs a bulk call acted on); with
    `result_ids_acted=False` the counter of jobs acted on counts the arguments' ids instead. A
    mutation that acts on too many jobs to list counts them with `note_acted`. `queue_arg` names
    the argument holding the queue, when it is not `queue`."""
    access = Access(
        name, role, audited=True, ids_from_result=ids_from_result, result_ids_acted=result_ids_acted
    )
    return _declare(access, queue_arg)


def read(
    role: Role = Role.VIEWER, queue_arg: str = "queue"
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Declare a read: not audited; job payloads in its result are hidden from viewers if configured."""
    return lambda method: _declare(Access(method.__name__, role, audited=False), queue_arg)(method)


def public(method: Callable[..., T]) -> Callable[..., T]:
    """Declare a method anyone may call, keyed or not (health probe, validation helpers)."""
    setattr(method, ACCESS_ATTRIBUTE, Access(method.__name__, None, audited=False))
    return method


def access_of(method: Any) -> Access | None:
    return getattr(method, ACCESS_ATTRIBUTE, None)


@dataclass(frozen=True)
class _Shape:
    """What a guarded method's signature says about the check it needs."""

    queue_arg: str
    names_queue: bool  # it takes the queue argument
    by_job: bool  # addressed by one `job_id`: checked on that job's queue, by authorise_job
    checks_jobs: bool  # it names jobs (`job_id` or `job_ids`): it must check them before it returns

    @property
    def has_queue(self) -> bool:
        return self.by_job or self.names_queue


def _note_worker(record: AuditRecord, outcome: object) -> None:
    """A worker command addressed by job id (stop) names no worker in its arguments: its record
    names the worker it found, from its outcome (CommandOutcome) or its refusal (WorkerNotListening,
    WorkerRunsOtherWork)."""
    worker = getattr(outcome, "worker_name", None)
    if record.worker is None and isinstance(worker, str):
        record.worker = worker


def _declare(access: Access, queue_arg: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        names = list(inspect.signature(method).parameters)[1:]  # without self
        by_job = "job_id" in names
        shape = _Shape(queue_arg, queue_arg in names, by_job, by_job or "job_ids" in names)

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
            scope: RequestScope | None = self.scope
            if scope is None or _current.get() is not None:
                return method(self, *args, **kwargs)
            # The passed arguments by name (a wrong call still fails in the method itself);
            # cheaper than Signature.bind, which dominated the guard's cost.
            arguments = {**dict(zip(names, args, strict=False)), **kwargs}
            return _Guarded(self, scope, access, arguments, shape).run(method, args, kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, access)
        return wrapper

    return decorate


class _Guarded:
    """One guarded call: authenticate, authorise, run, then redact (reads) or audit (mutations)."""

    def __init__(
        self,
        service: Any,
        scope: RequestScope,
        access: Access,
        arguments: dict[str, Any],
        shape: _Shape,
    ):
        self.service = service
        self.scope = scope
        self.access = access
        self.shape = shape
        self.has_queue = shape.has_queue
        self.by_job = shape.by_job
        self.jobs_checked = False  # set through note_jobs_checked
        self.job_id = arguments.get("job_id")
        # Addressed by job id, the queue checked is the job's (authorise_job). Until then the
        # audit names the queue a missing job would be looked for in (the named or the default
        # queue, or none), so an attempt on a job the key may not see is recorded exactly as one
        # on a missing job.
        self.queue: str | None = None
        self.queue_error: InvalidInput | None = None
        if shape.names_queue:  # resolved first: the audit names a refused call's queue
            try:
                self.queue = service.queue_name(arguments.get(shape.queue_arg))
            except InvalidInput as error:
                self.queue_error = error
        self.record = self._record(arguments) if access.audited else None

    def _record(self, arguments: dict[str, Any]) -> AuditRecord:
        job_ids = arguments.get("job_ids") or ([arguments["job_id"]] if "job_id" in arguments else [])
        return AuditRecord(
            request_id=self.scope.request_id,
            key=self.scope.principal.name,
            # A dry run changes nothing but shows what the key could do: audited, and marked.
            action=self.access.action + (DRY_RUN_SUFFIX if arguments.get("dry_run") else ""),
            queue=self.queue,
            job_ids=[str(job_id) for job_id in job_ids],
            worker=str(arguments["worker_name"]) if "worker_name" in arguments else None,
            instance=self.service.health.instance,
            # As sent (a cancel of an unknown or malformed id too), cut as a refused job id is.
            operation_id=str(arguments["operation_id"])[:64] if "operation_id" in arguments else None,
        )

    def _refusal_record(self) -> AuditRecord:
        """The log record of a refused read (reads have no audit record of their own)."""
        job_ids = [str(self.job_id)] if self.job_id is not None else []
        return AuditRecord(
            self.scope.request_id, self.scope.principal.name, self.access.action, self.queue, job_ids
        )

    def run(self, method: Callable[..., T], args: tuple, kwargs: dict) -> T:
        record = self.record
        acted: int | None = None  # jobs acted on, when not the record's ids
        try:
            self._authorise()
            token = _current.set(self)
            try:
                result = method(self.service, *args, **kwargs)
            except BackendUnavailable as error:
                seen = self.scope.seen_outage(error)
                if seen is error:
                    raise
                raise seen from None
            finally:
                _current.reset(token)
            if self.shape.checks_jobs and not self.jobs_checked:
                raise RuntimeError(
                    f"{self.access.action} did not check the jobs it addresses (authorise_job)"
                )
            if record is None:
                return self._shown(result)
            if self.access.ids_from_result is not None:
                if not self.access.result_ids_acted:
                    acted = len(record.job_ids)
                record.job_ids = list(self.access.ids_from_result(result))
            _note_worker(record, result)
            return result
        except Unauthenticated:
            # No valid key: logged and counted once per request, and never written to the capped
            # stream, where anyone's anonymous requests would push out the authenticated records.
            if self.scope.unauthenticated.first():
                refuse_unauthenticated(record or self._refusal_record(), self.scope.principal.refusal)
            record = None
            raise
        except BaseException as error:
            if record is not None:
                record.outcome, record.error = outcome_of(error)
                _note_worker(record, error)
            raise
        finally:
            if record is not None:
                count_acted(record, acted)
            if record is not None and self.scope.audit is not None:
                self.scope.audit.write(record, self.service.health)

    def _authorise(self) -> None:
        principal = self.scope.principal
        if principal.role is None:
            raise Unauthenticated(principal.refusal)
        if self.access.role is not None and principal.role < self.access.role:
            if self.by_job and self.record is not None:
                # Keys below admin cannot read the trail, so it may name the job's real queue.
                self.record.queue = self.service._recorded_queue(str(self.job_id)) or self.record.queue
            raise Forbidden(
                f"API key {principal.name!r} has role {principal.role.label}; "
                f"{self.access.action} needs {self.access.role.label}"
            )
        if self.has_queue:
            if self.queue_error is not None:
                raise self.queue_error
            if not self.by_job and self.queue is not None and not principal.may_access_queue(self.queue):
                raise Forbidden.queue(principal.name, self.queue)
        elif principal.queues and self.access.audited:
            raise Forbidden(
                f"API key {principal.name!r} is limited to some queues; {self.access.action} is not"
            )

    def _shown(self, result: Any) -> Any:
        return shown_to(self.scope, self.has_queue, result, None if self.by_job else self.queue)


def note_jobs_checked(job_id: str | None = None, queue: str | None = None) -> None:
    """Called by services/job_access.py once it has checked the jobs of the running call: the
    guard then lets the call return, and the audit record names `queue` for the call's own job."""
    call = _current.get()
    if call is None:
        return
    call.jobs_checked = True
    if call.by_job and call.record is not None and job_id == call.job_id:
        call.record.queue = queue


def note_operation(operation_id: str, queue: str, replayed: bool = False) -> None:
    """Called by a tracked operation's start and cancel once they know the operation: the audit
    record names it and its queue (a cancel names no queue of its own). A start that replayed an
    Idempotency-Key started nothing: its record is marked, as a dry run's is (ACTION.replay)."""
    call = _current.get()
    if call is not None and call.record is not None:
        call.record.operation_id = operation_id
        call.record.queue = queue
        if replayed:
            call.record.action += REPLAY_SUFFIX


def note_queue(queue: str) -> None:
    """Called by a mutation that writes into another queue than the one it was checked on (a
    replay to `target_queue`): its audit record names the queue written to, whose admins must
    see it."""
    call = _current.get()
    if call is not None and call.record is not None:
        call.record.queue = queue


def note_acted(count: int) -> None:
    """Called by a chunked write after each chunk with the jobs acted on so far: if a later chunk
    fails, the audit record and the metric still count what was done (not 0)."""
    call = _current.get()
    if call is not None and call.record is not None:
        call.record.acted = count


def current_request_id() -> str:
    call = _current.get()
    return call.scope.request_id if call is not None else "-"
