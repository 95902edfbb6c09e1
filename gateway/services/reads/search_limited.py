"""RQ 3's rate-limited jobs as one search source. A job enqueued with a rate limit whose slots are
all taken waits, with status `rate_limited`, in its rate-limit key's waiting set, in no queue
list and no registry: a search of "the queue and every registry" would never meet it. The source
spans queues (a rate-limit key does), so a search reads it once, after every queue, and keeps the
jobs whose origin is in its scope. Read-only.

Its cursor is the rate-limit key being read and the (score, member) cursor in its waiting set;
the keys are read in name order, each set in (score, member) order, so a job that stays waiting
is met once however the scan is split into requests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from redis import Redis

from gateway.errors import InvalidParameter
from gateway.services.domain import json_text
from gateway.services.domain.models import JobInfo
from gateway.services.redis import damaged, keys
from gateway.services.redis.origins import origins_of
from gateway.services.redis.registry import RegistryReader, decode_cursor, encode_cursor

RATE_LIMITED = "rate_limited"
# Waiting jobs read at a time (one ZRANGE, one pipeline of origins).
READ = 500


def limited_refs(
    connection: Redis, reader: RegistryReader, first: int, inner: str | None, wanted: Callable[[str], bool]
) -> tuple[list[str | bytes], Sequence[str], bool]:
    """Up to `first` waiting jobs after `inner` whose origin is `wanted`: (their references, the
    cursor after each, whether another such job follows). The others are read past and never
    named: a cursor is the caller's to decode, and the source spans queues, so a cursor that
    stopped on another queue's job told a queue-limited key that job's id. Reading past them is
    not bounded by the scan limit (they are not examined: `scanned` never counted them), only by
    how many jobs wait for a slot."""
    start_key, cursor = decode_limited_cursor(inner) if inner else ("", None)
    with connection.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.RATE_LIMIT_KEYS)
        (members,) = damaged.execute(pipe)
    names = sorted(
        damaged.internal(member) for member in members or () if damaged.internal(member) >= start_key
    )
    refs: list[str | bytes] = []
    cursors: list[str] = []
    for name in names:
        waiting = keys.rate_limit_keys(name)[2]
        after = cursor if name == start_key else None
        while True:
            _, entries = reader.after(waiting, after, READ, expiring=False)
            origins = origins_of(connection, [entry.job_ref for entry in entries])
            for entry, origin in zip(entries, origins, strict=True):
                if origin is None or not wanted(origin):
                    continue
                if len(refs) == first:
                    return refs, cursors, True
                refs.append(entry.job_ref)
                cursors.append(_encode(name, encode_cursor(entry.score, entry.member)))
            if len(entries) < READ:
                break
            after = (entries[-1].score, entries[-1].raw)
    return refs, cursors, False


def _encode(name: str, cursor: str) -> str:
    return json.dumps([name, cursor])


def decode_limited_cursor(inner: str) -> tuple[str, tuple[str, bytes] | None]:
    """(rate-limit key, cursor in its waiting set); InvalidParameter when it is not one of ours."""
    try:
        name, cursor = json_text.loads(inner)
    except (ValueError, TypeError):
        raise InvalidParameter("not a rate-limited jobs cursor") from None
    if not isinstance(name, str) or not isinstance(cursor, str):
        raise InvalidParameter("not a rate-limited jobs cursor")
    return name, decode_cursor(cursor)


def counted_entries(state: str, jobs: list[JobInfo], in_scope: Callable[[JobInfo], bool]) -> list[bool]:
    """Which entries of a chunk count as examined (a search's `scanned`): every entry of a queue
    or registry in scope, but of the rate-limited jobs, which span queues, only those `in_scope`:
    counting the others would tell a queue-limited key how many of other queues' jobs wait."""
    if state != RATE_LIMITED:
        return [True] * len(jobs)
    return [in_scope(job) for job in jobs]
