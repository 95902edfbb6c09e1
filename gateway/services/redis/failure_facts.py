"""What a failed job's function, traceback and failure time are, read for a chunk of registry
entries in one read-only Lua call (lua/cause_fields.lua): the three hash fields and the newest
results entry's traceback, never the whole job. Failure groups and the failed filters (the list's,
bulk actions' and operations') read jobs this way, and fetch whole only the jobs they show.

The reads and the decoding are two steps, so a walk can read its next chunk while it decodes
this one (reads/read_ahead.py)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from redis import Redis

from gateway.services.redis import damaged, decode, keys, result_entry, scripts
from gateway.services.redis.json_safe import writable

Member = str | bytes
FIELDS = 5  # values per job in lua/cause_fields.lua's reply


@dataclass(frozen=True)
class FailureFacts:
    func_name: str | None  # None: no job hash, or data that does not decode to a call
    traceback: str | None
    ended_at: str | None  # as lists show it (decode.format_timestamp)
    orphan: bool  # no job hash (or none of a job's fields)
    origin: str | None = None  # the hash's origin as a queue name (damaged.internal), if any

    def of_queue(self, queue_name: str) -> bool:
        """Whether the job names `queue_name` as its origin: a queue-limited key reads it."""
        return self.origin == queue_name


def read_cause_fields(connection: Redis, members: list[Member]) -> list[Any]:
    """The raw fields of each member's job: FIELDS values per member, for decode_facts."""
    if not members:
        return []
    read = connection.register_script(scripts.CAUSE_FIELDS)
    return read(args=[keys.JOB_PREFIX, *keys.RESULTS_KEY_PARTS, *members])


def decode_facts(flat: list[Any], serializer: Any) -> list[FailureFacts]:
    facts: list[FailureFacts] = []
    for index in range(0, len(flat), FIELDS):
        data, ended_at, legacy, raw_origin, exc_string = flat[index : index + FIELDS]
        origin = damaged.internal(raw_origin) if raw_origin else None
        if data is None and ended_at is None and legacy is None:
            facts.append(FailureFacts(None, None, None, orphan=True, origin=origin))
            continue
        facts.append(
            FailureFacts(
                _func_name(data, serializer),
                result_entry.failed_traceback(None, exc_string, legacy),
                decode.format_timestamp(ended_at),
                orphan=False,
                origin=origin,
            )
        )
    return facts


def read_facts(connection: Redis, members: list[Member], serializer: Any) -> list[FailureFacts]:
    return decode_facts(read_cause_fields(connection, members), serializer)


def _func_name(data: bytes | None, serializer: Any) -> str | None:
    if not data:
        return None
    try:  # the common case without the tolerant decoder's work on args and kwargs
        func_name = serializer.loads(zlib.decompress(data))[0]
    except Exception:
        return decode.decode_call(data, serializer)[0]
    return writable(func_name) if isinstance(func_name, str) else None
