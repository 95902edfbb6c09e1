"""An operation's state in Redis, where any gateway process can read, resume or cancel it.

    rq-gateway:operation:{id}             hash: request, status, counts, position of the walk
    rq-gateway:operation:{id}:errors      list: the first ERRORS_KEPT errors, "code id" (all, for job_ids)
    rq-gateway:operation:{id}:lease       the runner's token, expiring after LEASE_MS
    rq-gateway:operation:{id}:limited     list: rate-limited jobs a chunk left for RQ's requeue
    rq-gateway:operations                 zset: the latest LIST_KEPT ids, in the order Redis saw them start
    rq-gateway:operations:running         set: ids whose status is running
    rq-gateway:operation-idempotency:{h}  the id an idempotency key started, for 24 h
    rq-gateway:operations:started         pub/sub channel: a start wakes every idle resumer

Each change that must be atomic (create or replay, end, claim a lease) is one Lua script, and a
chunk's action and its progress are one more (operation_chunk.lua, run by chunks.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from typing import Any, Literal, cast

import redis
from redis import Redis

from gateway.errors import InvalidInput, InvalidParameter
from gateway.services.domain.models import JobError
from gateway.services.domain.rqtime import rq_now
from gateway.services.operations.model import ERRORS_SHOWN, Operation, Selector
from gateway.services.operations.readback import error_entry, operation_from_state
from gateway.services.redis import damaged, scripts

log = logging.getLogger(__name__)

PREFIX = "rq-gateway:operation:"
INDEX = "rq-gateway:operations"
RUNNING = "rq-gateway:operations:running"
IDEMPOTENCY_PREFIX = "rq-gateway:operation-idempotency:"
STARTED_CHANNEL = "rq-gateway:operations:started"  # pub/sub: wakes idle resumers (runner.py)
IDEMPOTENCY_SECONDS = 24 * 3600
KEPT_SECONDS = 7 * 24 * 3600  # a finished operation stays readable this long
LIST_KEPT = 1000
# A runner renews its lease with every chunk; a dead runner's lease lapses after LEASE_MS, and
# another process's resumer, polling every RESUME_POLL_SECONDS, takes the operation over: the
# issue's "resumed within 30 s" is LEASE_MS + RESUME_POLL_SECONDS at most.
LEASE_MS = 10_000
RESUME_POLL_SECONDS = 2.0
MAX_IDEMPOTENCY_KEY = 255

_INT_FIELDS = ("total", "done", "matched", "acted", "error_count")


# No walk's end to check: a cancel, or a runner that ends its operation 'failed'.
NO_MARK = ("", "")


class Rewound(Exception):
    """The operation's recorded position is not where this runner's walk left it: Redis went back
    in time under a lease it still holds (restarted from a snapshot, or failed over to a replica
    that lacked the last chunks). The runner walks again from the recorded position."""


def operation_key(operation_id: str) -> str:
    return PREFIX + operation_id


def lease_key(operation_id: str) -> str:
    return PREFIX + operation_id + ":lease"


def errors_key(operation_id: str) -> str:
    return PREFIX + operation_id + ":errors"


def limited_key(operation_id: str) -> str:
    return PREFIX + operation_id + ":limited"


def validate_idempotency_key(key: str, argument: str = "Idempotency-Key") -> str:
    """An idempotency key as a client may send it; the error names the transport's `argument`
    (REST's `Idempotency-Key` header, GraphQL's `idempotencyKey`). Not one that begins or ends
    with a space: HTTP drops those from a header, so REST could never send it, and " k" would be
    another key than the "k" a REST client sends for it."""
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable() or key != key.strip():
        raise InvalidParameter(
            f"{argument} must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters, "
            "not beginning or ending with a space"
        )
    return key


def _idempotency_key(principal: str, key: str) -> str:
    validate_idempotency_key(key)
    digest = hashlib.sha256(f"{principal}\n{key}".encode()).hexdigest()[:32]
    return IDEMPOTENCY_PREFIX + digest


def _request(action: str, queue: str, selector: Selector) -> str:
    return json.dumps([action, queue, selector.as_dict], sort_keys=True, separators=(",", ":"))


class OperationStore:
    def __init__(self, connection: Redis):
        self._connection = connection
        self._create = connection.register_script(scripts.OPERATION_CREATE)
        self._end = connection.register_script(scripts.OPERATION_END)
        self._lease = connection.register_script(scripts.OPERATION_LEASE)
        self._hand_over = connection.register_script(scripts.OPERATION_HANDED_OVER)
        self._finish_record = connection.register_script(scripts.OPERATION_FINISH_RECORD)

    def create(
        self,
        action: str,
        queue: str,
        selector: Selector,
        principal: str,
        total: int,
        bound: str,
        token: str,
        idempotency_key: str | None,
        own_jobs_only: bool = False,
    ) -> tuple[str, bool]:
        """(id, new): a new running operation whose lease `token` holds, or, for an idempotency
        key this principal used in the last 24 h with the same request, that operation.
        `own_jobs_only`: it acts only on the queue's own jobs (failed_actions.FailedJobActions),
        as its queue-limited caller may; whoever resumes it reads that from `only_origin`."""
        request = _request(action, queue, selector)
        idem = _idempotency_key(principal, idempotency_key) if idempotency_key is not None else None
        operation_id = uuid.uuid4().hex
        fields: dict[str, Any] = {
            "id": operation_id,
            "action": action,
            "queue": queue,
            "selector": selector.to_json(),
            "request": request,
            "status": "running",
            "total": total,
            "started_at": rq_now(),
            "key": principal,
            "bound": bound,
            "position": "",
            "only_origin": queue if own_jobs_only else "",
            **{name: 0 for name in _INT_FIELDS if name != "total"},
        }
        keys = [operation_key(operation_id), INDEX, RUNNING, lease_key(operation_id)]
        flat = [item for pair in fields.items() for item in pair]
        args = [operation_id, int(time.time() * 1000), token, LEASE_MS, IDEMPOTENCY_SECONDS, LIST_KEPT]
        found, new = self._create(keys=[*keys, idem] if idem else keys, args=[*args, *flat])
        found = found.decode()
        if new:
            self._announce(found)
        if not new:
            with self._connection.pipeline(transaction=False) as pipe:
                pipe.hget(operation_key(found), "request")
                (earlier,) = damaged.execute(pipe)
            if earlier not in (None, request.encode()):  # None: unreadable, which read() says
                raise InvalidParameter("This idempotency key was used for another request in the last 24 h")
        return found, bool(new)

    def _announce(self, operation_id: str) -> None:
        """Wake the idle resumers. The operation is started whatever this answers, so a refusal
        (an ACL user without the gateway's channel) must not answer the start with a 503: the
        resumers of such a deployment cannot subscribe either, and poll instead."""
        try:
            self._connection.publish(STARTED_CHANNEL, operation_id)
        except redis.ResponseError as error:
            log.warning("Operation %s started, but its start was not announced: %s", operation_id, error)

    def state(self, operation_id: str) -> dict[str, str]:
        """The raw fields the runner resumes from ({} when there is no such operation, or its key
        is not a hash)."""
        with self._connection.pipeline(transaction=False) as pipe:
            pipe.hgetall(operation_key(operation_id))
            (raw,) = damaged.execute(pipe)
        return {damaged.shown(k): damaged.shown(v) for k, v in (raw or {}).items()}

    def read(self, operation_id: str) -> Operation | None:
        """The operation, or None when there is none or its state cannot be read (damaged data
        reads as absent, README "Damaged data": an answer about the others never fails on it)."""
        return self.read_many([operation_id])[0]

    def read_many(self, operation_ids: list[str]) -> list[Operation | None]:
        """read() of each, in one round trip: a page of operations or of audit records costs one
        read, however many operations it names."""
        if not operation_ids:
            return []
        with self._connection.pipeline(transaction=False) as pipe:
            for operation_id in operation_ids:
                pipe.hgetall(operation_key(operation_id))
                pipe.lrange(errors_key(operation_id), 0, ERRORS_SHOWN - 1)
            replies = damaged.execute(pipe)
        return [
            _operation_of(operation_id, replies[2 * i], replies[2 * i + 1])
            for i, operation_id in enumerate(operation_ids)
        ]

    def every_error(self, operation_id: str) -> list[JobError]:
        """Every error the operation kept (up to ERRORS_KEPT), in order: beyond the ERRORS_SHOWN
        read() lists, for a limited reader's view (seen.py)."""
        with self._connection.pipeline(transaction=False) as pipe:
            pipe.lrange(errors_key(operation_id), 0, -1)
            (errors,) = damaged.execute(pipe)
        return [error_entry(damaged.shown(entry)) for entry in errors or []]

    def listed_after(self, after: str | None, count: int) -> list[str] | None:
        """Up to `count` ids of the list (newest first) after the operation `after` (None: from
        the newest); None when `after` is not (or no longer) listed. By its rank now, so
        operations started since shift nothing."""
        start = 0
        if after is not None:
            rank = self._read(lambda pipe: pipe.zrevrank(INDEX, after))
            if rank is None:
                return None
            start = cast(int, rank) + 1
        members = self._read(lambda pipe: pipe.zrevrange(INDEX, start, start + count - 1)) or []
        return [damaged.shown(member) for member in members]

    def running_ids(self) -> list[str]:
        members = self._read(lambda pipe: pipe.smembers(RUNNING)) or set()
        return sorted(damaged.shown(member) for member in members)

    def _read(self, command: Any) -> Any:
        """One read whose key, of another type, reads as absent (None)."""
        with self._connection.pipeline(transaction=False) as pipe:
            command(pipe)
            (reply,) = damaged.execute(pipe)
        return reply

    def claim(self, operation_id: str, token: str) -> Literal["held", "busy", "ended"]:
        """Take the lease of a running operation if it is free (or already ours): "held"; "busy"
        when another runner holds it (or there is no such operation); "ended" when it no longer
        runs (now off the running set: a cancel leaves it there while a runner holds the lease)."""
        keys = [operation_key(operation_id), lease_key(operation_id), RUNNING]
        reply = self._lease(keys=keys, args=[token, LEASE_MS, operation_id])
        return "held" if reply == 1 else "ended" if reply == -1 else "busy"

    def release_ended(self, operation_id: str) -> None:
        """An ended operation off the running set and its lease gone, once its runner has written
        its finish record (a cancel leaves both while a runner holds the lease)."""
        with self._connection.pipeline(transaction=False) as pipe:
            pipe.srem(RUNNING, operation_id)
            pipe.delete(lease_key(operation_id))
            damaged.execute(pipe)

    def finish(self, operation_id: str, token: str, status: str, walked: tuple[str, str] = NO_MARK) -> bool:
        """End the operation this token runs. `walked`: the field and value the walk's last chunk
        recorded (Steps.walked); when Redis does not hold them, the walk has not ended there
        (Redis went back in time under it) and steps.Rewound is raised instead."""
        return self._end_with(operation_id, status, token, walked)

    def cancel(self, operation_id: str) -> bool:
        """Canceled now (True), or it had already ended. The runner stops at its next chunk:
        the chunk script acts only on a running operation."""
        return self._end_with(operation_id, "canceled", "")

    def _end_with(
        self, operation_id: str, status: str, token: str, walked: tuple[str, str] = ("", "")
    ) -> bool:
        keys = [operation_key(operation_id), RUNNING, lease_key(operation_id), errors_key(operation_id)]
        reply = self._end(keys=keys, args=[operation_id, status, rq_now(), KEPT_SECONDS, token, *walked])
        if reply == -1:
            raise Rewound
        return bool(reply)

    def take_finish_record(self, operation_id: str) -> bool:
        """Whether this caller writes the ended operation's finish record: True to the first
        caller only, so a canceled operation, which its runner or its canceler may record, is
        recorded once."""
        return bool(self._finish_record(keys=[operation_key(operation_id)]))

    def holds_lease(self, operation_id: str) -> bool:
        """Whether a runner holds the operation's lease (it stops on a cancel at its next chunk)."""
        return bool(self._read(lambda pipe: pipe.exists(lease_key(operation_id))))

    def limited(self, operation_id: str) -> list[bytes]:
        """The rate-limited jobs chunks left for RQ's own requeue, not handed over yet."""
        return self._read(lambda pipe: pipe.lrange(limited_key(operation_id), 0, -1)) or []

    def handed_over(self, operation_id: str, member: bytes, acted: bool) -> None:
        """`member` of limited() went through RQ's requeue: off the list, and counted when RQ
        requeued it, in one script call (operation_handed_over.lua) that counts it only if it
        took it off, so a call sent again after a dropped connection counts it once. Taken off
        by name, not popped: a runner that stalled past its lease and hands over beside its
        successor never takes off an entry neither handled. (A crash between RQ's requeue and
        this leaves it listed; the next runner hands it over again, and RQ answers it is no
        longer failed: not counted twice, though then not counted at all.)"""
        keys = [operation_key(operation_id), limited_key(operation_id)]
        self._hand_over(keys=keys, args=[member, 1 if acted else 0])


def _operation_of(operation_id: str, raw: Any, errors: Any) -> Operation | None:
    """An operation from its hash and its first errors as read (None: absent or unreadable)."""
    if not raw:
        return None
    fields = {damaged.shown(k): damaged.shown(v) for k, v in raw.items()}
    try:
        return operation_from_state(operation_id, fields, errors or [])
    except (KeyError, ValueError, TypeError, InvalidInput) as error:
        log.warning("Operation %s cannot be read, so it reads as absent: %r", operation_id, error)
        return None
