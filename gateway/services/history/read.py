"""Read a queue's history: whole-minute buckets of `step` minutes from `since` to `until`.

One pipelined round trip: a HGETALL per minute in the range, and RQ's "is this queue known"
rule (reads/known.py), so an unknown queue is a 404 as everywhere else. Minutes without a hash
were not sampled and leave their fields null; see layout.py for what a minute holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from redis import Redis

from gateway.errors import InvalidParameter, QueueNotFound
from gateway.services.domain.failed_job_filter import parse_date
from gateway.services.history.layout import FAILED, FINISHED, LATENCY, QUEUED, RUN_MAX, minute_key
from gateway.services.history.models import HistoryBucket, QueueHistory
from gateway.services.history.timings import percentiles, sketch_counts
from gateway.services.reads import known
from gateway.services.redis import damaged

DEFAULT_SPAN = timedelta(hours=1)
MAX_STEP = 1440  # a day per bucket
MAX_MINUTES = 31 * 1440  # the longest range one request reads, minute by minute
MAX_BUCKETS = 1440


def history_range(
    since: str | None, until: str | None, step: int, now: datetime, left: int = MAX_MINUTES
) -> tuple[int, int]:
    """The first minute and the number of minutes to read (a whole number of steps), checked:
    InvalidParameter on a bad date, an empty range, a bad step, or too much to read. `left`: the
    minutes the request has left to read (GraphQL's history fields share one request's)."""
    if not 1 <= step <= MAX_STEP:
        raise InvalidParameter(f"step must be a whole number of minutes from 1 to {MAX_STEP}")
    end = parse_date("until", until) or now
    # The last hour before `until`, or what there is of it after the first instant of year 1.
    start = parse_date("since", since) or end - min(
        DEFAULT_SPAN, end - datetime.min.replace(tzinfo=timezone.utc)
    )
    if start >= end:
        raise InvalidParameter("since must be earlier than until")
    first = math.floor(start.timestamp() / 60)
    minutes = math.ceil(end.timestamp() / 60) - first
    buckets = math.ceil(minutes / step)
    if minutes > MAX_MINUTES or buckets > MAX_BUCKETS:
        raise InvalidParameter(
            f"the range holds {minutes} minutes in {buckets} buckets: at most {MAX_MINUTES} "
            f"minutes and {MAX_BUCKETS} buckets; use a shorter range or a larger step"
        )
    if buckets * step > left:
        raise InvalidParameter(
            f"the range holds {buckets * step} minutes, and the history fields of one request read "
            f"at most {MAX_MINUTES} minutes together: {left} are left; ask for fewer or shorter ranges"
        )
    return first, buckets * step


def read_history(connection: Redis, name: str, first: int, minutes: int, step: int) -> QueueHistory:
    with connection.pipeline(transaction=True) as pipe:
        for minute in range(first, first + minutes):
            pipe.hgetall(minute_key(minute, name))
        known.known_commands(pipe, name)
        # A minute key of another type (not the writer's hash) reads as a minute not sampled.
        replies = damaged.execute(pipe)
    if not known.is_known(replies[minutes:]):
        raise QueueNotFound(name)
    hashes = [reply or {} for reply in replies[:minutes]]
    buckets = tuple(
        _bucket(first + offset, hashes[offset : offset + step]) for offset in range(0, minutes, step)
    )
    return QueueHistory(queue=name, step=step, buckets=buckets)


def _bucket(minute: int, hashes: list[dict[bytes, bytes]]) -> HistoryBucket:
    sampled = [fields for fields in hashes if fields]
    run_max = _largest(_values(sampled, RUN_MAX, float))
    sketch: Counter[str] = Counter()
    for fields in sampled:
        sketch.update(sketch_counts(fields))
    p50, p95 = percentiles(sketch, (0.5, 0.95), run_max)
    # isoformat, not strftime: %Y writes year 1 as "1", not "0001".
    start = datetime.fromtimestamp(minute * 60, timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    return HistoryBucket(
        start=start,
        failed=_total(_values(sampled, FAILED, int)),
        finished=_total(_values(sampled, FINISHED, int)),
        queued=_largest(_values(sampled, QUEUED, int)),
        latency_seconds=_largest(_values(sampled, LATENCY, float)),
        run_seconds_p50=p50,
        run_seconds_p95=p95,
        run_seconds_max=run_max,
    )


def _values(hashes: list[dict[bytes, bytes]], name: str, kind: Any) -> list[Any]:
    """The field's values that read as finite numbers of `kind`; others (written by something
    else than the history writer) are skipped, as a minute not sampled is."""
    field = name.encode()
    values = []
    for fields in hashes:
        try:
            value = kind(fields[field])
            finite = math.isfinite(value)  # OverflowError: an int past float's range
        except (KeyError, ValueError, OverflowError):
            continue
        if finite:
            values.append(value)
    return values


def _total(values: Iterable[int]) -> int | None:
    values = list(values)
    return sum(values) if values else None


def _largest(values: Iterable[Any]) -> Any:
    return max(values, default=None)
