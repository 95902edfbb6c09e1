"""The audit trail: one JSON log line per mutation, and the same record in a capped Redis stream.

The log line is written first and always: if Redis is down (the very case where an operator
most wants to know who did what), the stream write is skipped or fails and the line remains."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import redis

from gateway.errors import Forbidden, GatewayError, InvalidParameter, Unauthenticated
from gateway.services.domain import json_text
from gateway.services.domain.rqtime import rq_now
from gateway.services.domain.validation import MAX_NAME_LENGTH
from gateway.services.redis import damaged

log = logging.getLogger("rq_gateway.audit")
_warnings = logging.getLogger(__name__)

AUDIT_STREAM = "rq-gateway:audit"
DEFAULT_MAXLEN = 10_000
IDS_SHOWN = 10
# Marks on a mutation's action for a call that acted on nothing (e.g. `retry_group.dry_run`).
DRY_RUN_SUFFIX = ".dry_run"
REPLAY_SUFFIX = ".replay"  # a tracked operation's start that replayed an Idempotency-Key
_STREAM_ID = re.compile(r"\d{1,20}-\d{1,20}")
_CHUNK = 1000  # entries per XREVRANGE while a queue-limited reader's pass walks the stream
_QUEUE_FIELD = re.compile(rb'"queue":(null|"(?:[^"\\]|\\.)*")')


@dataclass
class AuditRecord:
    """Filled in while a guarded mutation runs; written once when it ends."""

    request_id: str
    key: str
    action: str
    queue: str | None
    job_ids: list[str] = field(default_factory=list)
    outcome: str = "ok"  # ok | refused | error
    error: str | None = None  # the error class, e.g. FailedJobNotFound, Forbidden, InternalError
    time: str = field(default_factory=rq_now)
    worker: str | None = None  # the worker a worker command addressed (issue 15)
    # The Redis instance acted on, when the gateway serves several (None: the only one).
    instance: str | None = None
    # The tracked operation a start, cancel or finish record is about (README "Audit trail").
    operation_id: str | None = None
    # `job_count` when it is not the number of `job_ids`: an operation's finish counts the jobs it
    # acted on and lists none (an operation may act on millions).
    acted: int | None = None
    # The selector kind (`all`, `job_ids`, ...) of the operation a finish record is about: once
    # the operation is no longer kept, it says whether its count can hold other queues' jobs.
    selector_kind: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        acted = data.pop("acted")
        if data["worker"] is None:  # only worker commands name one; other records stay as they were
            del data["worker"]
        if data["operation_id"] is None:  # only tracked operations' records name one
            del data["operation_id"]
        if data["selector_kind"] is None:  # only an operation's finish says it
            del data["selector_kind"]
        data["job_count"] = len(self.job_ids) if acted is None else acted
        if self.instance is None:
            del data["instance"]  # a single-instance gateway's records are as they were
        # A refused id can be hostile and huge; no valid id is longer than this.
        data["job_ids"] = [job_id[:MAX_NAME_LENGTH] for job_id in self.job_ids[:IDS_SHOWN]]
        return data


@dataclass(frozen=True)
class AuditEntry:
    """One record read back from the stream; `cursor` is its stream entry id."""

    cursor: str
    time: str
    request_id: str
    key: str
    action: str
    queue: str | None
    job_count: int
    job_ids: list[str]
    outcome: str
    error: str | None
    worker: str | None = None
    operation_id: str | None = None
    selector_kind: str | None = None


@dataclass(frozen=True)
class AuditPage:
    """Newest first; `end_cursor` continues with older entries."""

    entries: list[AuditEntry]
    total: int
    end_cursor: str | None
    has_next_page: bool


def outcome_of(error: BaseException) -> tuple[str, str]:
    if isinstance(error, (Unauthenticated, Forbidden)):
        return "refused", type(error).__name__
    if isinstance(error, GatewayError):
        return "error", type(error).__name__
    return "error", "InternalError"


class AuditTrail:
    """The stream in the default instance. `health` is that instance's: with several instances,
    a call on another one writes and reads the trail under the default's fail-fast window, and a
    failure of the trail's Redis is the default's, never the acting instance's."""

    def __init__(self, connection: redis.Redis, maxlen: int = DEFAULT_MAXLEN, health: Any = None):
        self.connection = connection
        self.maxlen = maxlen
        self.health = health

    def write(self, record: AuditRecord, health: Any) -> None:
        """`health`: the acting instance's, used when the trail was given none of its own."""
        from gateway.services.redis.backend import call_on

        line = json.dumps(record.as_dict(), separators=(",", ":"))
        log.info(line)
        if self.maxlen <= 0:
            return
        try:
            # Redis failed a moment ago: do not wait out another timeout.
            call_on(
                self.health or health,
                "audit",
                lambda: self.connection.xadd(
                    AUDIT_STREAM, {"record": line}, maxlen=self.maxlen, approximate=True
                ),
            )
        except (GatewayError, redis.RedisError) as error:
            _warnings.warning(
                "Audit record %s not written to Redis (%s); it is in the log only",
                record.request_id,
                type(error).__name__,
            )


def read_audit(
    connection: redis.Redis,
    first: int,
    after: str | None,
    visible: Callable[[str | None], bool] | None = None,
    instance: str | None = None,
) -> AuditPage:
    """A page of the stream, newest first, starting strictly before the `after` cursor. With
    `visible` (a queue-limited reader), only the entries whose queue it accepts, and their total;
    with `instance` too, only those of that Redis instance (the trail of a gateway serving several
    is one stream: a key limited to one instance must not read the others')."""
    if after is not None and not _STREAM_ID.fullmatch(after):
        raise InvalidParameter(f"Invalid audit cursor {after[:64]!r}")
    if visible is not None:
        return _read_visible(connection, first, after, visible, instance)
    upper = f"({after}" if after else "+"
    with connection.pipeline(transaction=False) as pipe:
        pipe.xrevrange(AUDIT_STREAM, max=upper, min="-", count=first + 1)
        pipe.xlen(AUDIT_STREAM)
        rows, total = damaged.execute(pipe)  # a stream key of another type reads as an empty trail
    rows, total = rows or [], total or 0
    entries = [_entry(entry_id, fields) for entry_id, fields in rows[:first]]
    return AuditPage(
        entries=entries,
        total=total,
        end_cursor=entries[-1].cursor if entries else None,
        has_next_page=len(rows) > first,
    )


def _read_visible(
    connection: redis.Redis,
    first: int,
    after: str | None,
    visible: Callable[[str | None], bool],
    instance: str | None = None,
) -> AuditPage:
    """One pass over the whole stream, newest first, in chunks: the visible entries before the
    cursor make the page, and all visible entries the total. The stream is capped (about
    --audit-maxlen entries), which bounds the pass; the cursor is a visible entry's own id, so
    pages continue exactly however the hidden entries around them are spread."""
    entries: list[AuditEntry] = []
    total = 0
    has_next_page = False
    start = _position(after) if after else None
    upper = "+"
    while True:
        # Raw replies (the connection decodes nothing): (entry id, fields) pairs, all bytes.
        with connection.pipeline(transaction=False) as pipe:
            pipe.xrevrange(AUDIT_STREAM, max=upper, min="-", count=_CHUNK)
            (reply,) = damaged.execute(pipe)  # a key of another type: an empty trail
        rows = cast("list[tuple[bytes, dict[bytes, bytes]]]", reply or [])
        for entry_id, fields in rows:
            record = fields.get(b"record", b"")
            if not visible(_queue_of(record)) or (instance is not None and _instance_of(record) != instance):
                continue
            total += 1
            if start is not None and _position(entry_id.decode()) >= start:
                continue
            if len(entries) < first:
                entries.append(_entry(entry_id, fields))
            else:
                has_next_page = True
        if len(rows) < _CHUNK:
            break
        upper = f"({rows[-1][0].decode()}"
    return AuditPage(
        entries=entries,
        total=total,
        end_cursor=entries[-1].cursor if entries else None,
        has_next_page=has_next_page,
    )


def _queue_of(record: bytes) -> Any:
    """The record's queue, read without decoding the whole line: the pass over the stream decodes
    every record, and a full json.loads of each took most of its time. Our lines put `queue`
    after fields that cannot hold a quote, so its first occurrence is the field itself."""
    match = _QUEUE_FIELD.search(record)
    try:
        queue = json_text.loads(match.group(1)) if match else _record(record).get("queue")
    except ValueError:
        return None
    return queue if isinstance(queue, str) else None


def _instance_of(record: bytes) -> Any:
    """The record's instance (None in a single-instance gateway's records, or unreadable ones)."""
    return _record(record).get("instance")


def _record(raw: bytes) -> dict[str, Any]:
    """A record as a JSON object; {} for one written by something else (not JSON, not an object,
    nested too deeply): shown with what it holds, it never fails the page."""
    try:
        data = json_text.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _position(stream_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = stream_id.partition("-")
    return int(milliseconds), int(sequence)


def _entry(entry_id: bytes, fields: dict[bytes, bytes]) -> AuditEntry:
    """Each field as our records write it, or empty: a field of another type (a record written by
    something else) reads as absent, as damaged data does everywhere."""
    data = _record(fields.get(b"record", b"{}"))
    job_count, job_ids = data.get("job_count"), data.get("job_ids")
    job_ids = job_ids if isinstance(job_ids, list) else []
    return AuditEntry(
        cursor=entry_id.decode(),
        time=_str(data.get("time")) or "",
        request_id=_str(data.get("request_id")) or "",
        key=_str(data.get("key")) or "",
        action=_str(data.get("action")) or "",
        queue=_str(data.get("queue")),
        job_count=job_count if type(job_count) is int else 0,
        job_ids=[job_id for job_id in job_ids if isinstance(job_id, str)],
        outcome=_str(data.get("outcome")) or "",
        error=_str(data.get("error")),
        worker=_str(data.get("worker")),
        operation_id=_str(data.get("operation_id")),
        selector_kind=_str(data.get("selector_kind")),
    )
