"""Which failed jobs a listing or a bulk action applies to.

Failure time is the job's `ended_at`: RQ's worker sets it when the job fails, and it is the only
stored failure time. The failed registry's score is *not* it: RQ scores an entry with
`failed_at + failure_ttl` (one year by default, per job, -1 for never), so a date range on the
score would be wrong for every job with another failure_ttl. Dates are therefore compared with
`ended_at` inside Redis (see reads/filtered.py), and only matching ids leave Redis.

The interval is half-open: `failed_after <= ended_at < failed_before`, so consecutive ranges
(`..., 00:00)` then `[00:00, ...`) never count a job twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from gateway.errors import InvalidParameter
from gateway.services.domain.rqtime import rq_time
from gateway.services.domain.tracebacks import exception_type

MAX_TEXT_LENGTH = 1000


def parse_date(name: str, text: str | None) -> datetime | None:
    """ISO 8601 with or without Z or an offset; a naive value means UTC."""
    if text is None or text == "":
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f"Invalid {name} {text[:80]!r}: use ISO 8601, e.g. 2024-01-31T22:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is valid ISO 8601, but before year 1 in UTC
        raise InvalidParameter(
            f"Invalid {name} {text[:80]!r}: in UTC it falls outside the years 1 to 9999"
        ) from None


def _text(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidParameter(f"{name} must be at most {MAX_TEXT_LENGTH} characters")
    return value


@dataclass(frozen=True)
class FailedJobFilter:
    """All given criteria must hold. `func_name` and `exc_type` are exact; `search` is a
    case-sensitive substring of the traceback. An empty filter matches every entry."""

    func_name: str | None = None
    exc_type: str | None = None
    search: str | None = None
    failed_after: datetime | None = None
    failed_before: datetime | None = None

    @classmethod
    def parse(
        cls,
        func_name: str | None = None,
        exc_type: str | None = None,
        search: str | None = None,
        failed_after: str | None = None,
        failed_before: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> FailedJobFilter:
        """Build a filter from transport input; InvalidParameter on a bad value, naming the
        parameter as the transport does (`names`: GraphQL's failedAfter for failed_after)."""

        def name(field: str) -> str:
            return (names or {}).get(field, field)

        after = parse_date(name("failed_after"), failed_after)
        before = parse_date(name("failed_before"), failed_before)
        if after is not None and before is not None and after >= before:
            raise InvalidParameter(f"{name('failed_after')} must be earlier than {name('failed_before')}")
        return cls(
            func_name=_text(name("func_name"), func_name),
            exc_type=_text(name("exc_type"), exc_type),
            search=_text(name("search"), search),
            failed_after=after,
            failed_before=before,
        )

    @property
    def is_empty(self) -> bool:
        return not (self.has_dates or self.needs_job)

    @property
    def has_dates(self) -> bool:
        return self.failed_after is not None or self.failed_before is not None

    @property
    def needs_job(self) -> bool:
        """Criteria that need the job hash (and maybe the traceback) in Python."""
        return self.func_name is not None or self.needs_traceback

    @property
    def needs_traceback(self) -> bool:
        return self.exc_type is not None or self.search is not None

    def date_bounds(self) -> tuple[str, str]:
        """The bounds as RQ stores timestamps ('' for none), for the Lua comparison."""
        return (
            rq_time(self.failed_after) if self.failed_after else "",
            rq_time(self.failed_before) if self.failed_before else "",
        )

    def matches_failure(self, func_name: str | None, exc_info: str | None, ended_at: str | None) -> bool:
        """Every criterion, on what a failed job says: its function, its traceback and its
        failure time (as lists show it). An orphan, which says none of them, matches only the
        empty filter."""
        if self.has_dates:
            after, before = self.date_bounds()
            if ended_at is None or (after and ended_at < after) or (before and ended_at >= before):
                return False
        if self.func_name is not None and func_name != self.func_name:
            return False
        if self.exc_type is not None and exception_type(exc_info) != self.exc_type:
            return False
        return self.search is None or (exc_info is not None and self.search in exc_info)
