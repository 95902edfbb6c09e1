"""Reading some fields of many jobs (services/redis/fetch.py, lua/job_fields.lua), as search does:
what one script call returns per job, and that calls stay bounded in jobs (so one holds Redis for
a couple of milliseconds) while a scan costs one call per chunk, not one command per job."""

from __future__ import annotations

import math

from gateway.services.redis import keys
from gateway.services.redis.fetch import FIELDS_CALL_JOBS, FIELDS_WITH_RESULTS_CALL_JOBS, _read_fields

FIELDS = ("status", "description")


def _seed(conn, n: int) -> list[str]:
    """n job hashes; every third has no results stream, the others two entries (older first)."""
    ids = [f"job-{i:04d}" for i in range(n)]
    for i, job_id in enumerate(ids):
        conn.hset(keys.job_key(job_id), mapping={"status": "failed", "description": f"d{i}"})
        if i % 3:
            conn.xadd(keys.results_key(job_id), {"type": "2", "exc_string": f"old-{i}"})
            conn.xadd(keys.results_key(job_id), {"type": "3", "exc_string": f"new-{i}"})
    return ids


def test_with_results_each_job_gives_its_fields_then_its_newest_results_traceback(conn) -> None:
    ids = [*_seed(conn, 7), "never-written"]
    flat = _read_fields(conn, ids, FIELDS, with_results=True)
    width = len(FIELDS) + 1
    rows = [flat[width * n : width * (n + 1)] for n in range(len(ids))]
    for i, row in enumerate(rows[:-1]):
        newest = f"new-{i}".encode() if i % 3 else None
        assert row == [b"failed", f"d{i}".encode(), newest]
    assert rows[-1] == [None, None, None]
    assert len(flat) == width * len(ids)


def test_a_wrong_type_at_a_results_key_reads_as_no_result(conn) -> None:
    ids = _seed(conn, 2)
    conn.delete(keys.results_key(ids[1]))
    conn.set(keys.results_key(ids[1]), "not a stream")
    assert _read_fields(conn, ids, FIELDS, with_results=True)[3:] == [b"failed", b"d1", None]


def test_script_calls_are_bounded_in_jobs_and_a_chunk_is_one_call(conn, round_trips) -> None:
    ids = _seed(conn, 1100)
    _read_fields(conn, ids[:1], FIELDS, with_results=False)  # registers the script
    for with_results, per_call in ((False, FIELDS_CALL_JOBS), (True, FIELDS_WITH_RESULTS_CALL_JOBS)):
        round_trips.reset()
        flat = _read_fields(conn, ids, FIELDS, with_results=with_results)
        assert len(flat) == len(ids) * (len(FIELDS) + (1 if with_results else 0))
        assert round_trips.commands == ["EVALSHA"] * math.ceil(len(ids) / per_call)
