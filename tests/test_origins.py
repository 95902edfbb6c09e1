"""A job's queue as read from its `origin` (gateway/services/redis/origins.py): known only when it
is text; never guessed from damaged data."""

from __future__ import annotations

from gateway.services.redis.origins import origins_of


def test_each_reference_reads_its_origin_or_none_when_it_is_unknown(conn):
    conn.hset("rq:job:a", "origin", "billing-eu")
    conn.hset("rq:job:no-origin", "status", "failed")
    conn.hset("rq:job:garbled", "origin", b"caf\xe9")  # not UTF-8: unknown, not a lossy guess
    conn.set("rq:job:a-string", "not a hash")  # another Redis type: damaged, unknown
    conn.hset(b"rq:job:\xff\xfe", "origin", "reports")  # a member that is not UTF-8 itself
    refs = ["a", "no-origin", "garbled", "a-string", "gone", b"\xff\xfe"]
    assert origins_of(conn, refs) == ["billing-eu", None, None, None, None, "reports"]
