"""RQ's timestamp format, as RQ writes `enqueued_at`, `ended_at` and the like (rq.utils.utcformat).

Fixed width, so byte order is time order: scripts compare such stamps byte by byte."""

from __future__ import annotations

from datetime import datetime, timezone

RQ_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def rq_now() -> str:
    """Now, in UTC, as RQ writes a time."""
    return datetime.now(timezone.utc).strftime(RQ_TIME_FORMAT)
