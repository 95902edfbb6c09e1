"""One RQ timestamp format: the one RQ itself writes and reads."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rq.utils import utcformat, utcparse

from gateway.services.domain.rqtime import RQ_TIME_FORMAT, rq_now, rq_time_of

ROOT = Path(__file__).resolve().parent.parent


def test_the_format_is_rqs_own():
    moment = datetime(2024, 1, 31, 22, 0, 5, 123456, tzinfo=timezone.utc)
    assert moment.strftime(RQ_TIME_FORMAT) == utcformat(moment) == "2024-01-31T22:00:05.123456Z"


def test_now_is_a_utc_time_rq_reads_back():
    before = datetime.now(timezone.utc)
    stamp = rq_now()
    after = datetime.now(timezone.utc)
    parsed = utcparse(stamp).replace(tzinfo=timezone.utc)
    assert before.replace(microsecond=0) <= parsed <= after
    assert len(stamp) == len("2024-01-31T22:00:05.123456Z")  # fixed width: byte order is time order


def test_a_score_no_date_can_hold_is_no_time():
    assert rq_time_of(1706738405.123456) == "2024-01-31T22:00:05.123456Z"
    assert rq_time_of(-62135596800) == "0001-01-01T00:00:00.000000Z"  # fixed width, as RQ's
    for seconds in (1e12, -1e12, float("inf"), float("-inf"), float("nan"), 1e300):
        assert rq_time_of(seconds) is None


def test_the_gateway_writes_times_only_through_rqtime():
    """glibc's strftime('%Y') writes year 999 as '999', which sorts after '2026' where times are
    compared as text (the Lua date filters): every time the gateway writes goes through rqtime,
    which pads the year."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "gateway").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "strftime(" in line
    ]
    assert offenders == []
