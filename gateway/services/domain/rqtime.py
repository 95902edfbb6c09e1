"""RQ's timestamp format, as RQ writes `enqueued_at`, `ended_at` and the like (rq.utils.utcformat).

Fixed width, so byte order is time order: scripts compare such stamps byte by byte."""

from __future__ import annotations

from datetime import datetime, timezone

RQ_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def rq_time(moment: datetime) -> str:
    """A time as RQ writes one (UTC, its naive or aware value taken as UTC). Not strftime: %Y
    writes year 999 as '999', which sorts after '2026' where stamps are compared as text."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def rq_time_of(seconds: float) -> str | None:
    """Unix seconds (a sorted-set score, a key's expiry) as RQ writes a time; None when no date
    can hold them. A score is any double and an expiry reaches about 292 million years, so a
    damaged or hand-written one (inf, 1e12) must read as no time, not fail the whole view."""
    try:
        moment = datetime.fromtimestamp(seconds, timezone.utc)
    except (ValueError, OverflowError, OSError):  # beyond years 1-9999, inf or nan, the OS's range
        return None
    return rq_time(moment)


def rq_now() -> str:
    """Now, in UTC, as RQ writes a time."""
    return rq_time(datetime.now(timezone.utc))
