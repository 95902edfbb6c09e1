"""Builders of failed registries holding damaged entries, as real deployments leave them: job
hashes gone or of another Redis type, payloads RQ cannot load, origins that are empty or not
UTF-8, members that are not UTF-8 or hold a ':', queue keys of another type. Shared by the
dry-run and damaged-data property tests."""

from __future__ import annotations

import time
import zlib

import redis
from rq.job import Job

from gateway.demo import jobs

FAR_FUTURE = 10**10  # a live failed entry (scored by expiry)
EXPIRED = 1  # a score RQ's cleanup would delete: every view treats it as absent

TRACEBACKS = {
    "ValueError": 'Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: bad input\n',
    "KeyError": "Traceback (most recent call last):\n  File \"x.py\", line 2, in g\nKeyError: 'k'\n",
}

# Every kind of entry the builders below can put in a failed registry.
KINDS = (
    "healthy",
    "healthy_keyerror",
    "missing",
    "string_key",
    "list_key",
    "set_key",
    "unreadable_data",
    "empty_origin",
    "non_utf8_origin",
    "non_utf8_id",
    "non_utf8_id_missing",
    "colon_id",
    "fields_only",
    "queue_key_damaged",
    "rate_limited_unreadable",
)


def failed_job(r: redis.Redis, job_id: str, queue: str = "default", exc_type: str = "ValueError") -> str:
    """A failed job hash as RQ leaves one (traceback in the hash, as RQ < 2 kept it)."""
    job = Job.create(jobs.parse_report, args=(f"bad-{job_id}",), id=job_id, connection=r, origin=queue)
    job.save()
    r.hset(
        job.key,
        mapping={
            "status": "failed",
            "ended_at": "2026-01-01T00:00:00.000000Z",
            "exc_info": zlib.compress(TRACEBACKS[exc_type].encode()),
        },
    )
    return job.key


def _copy_job(r: redis.Redis, job_key: bytes, template_id: str) -> None:
    template = failed_job(r, template_id)
    r.restore(job_key, 0, r.dump(template))
    r.delete(template)


def add_entry(r: redis.Redis, kind: str, index: int, score: float, queue: str = "default") -> bytes:
    """Put one entry of `kind` in the queue's failed registry; returns its member."""
    job_id = f"j{index}"
    member = job_id.encode()
    key = f"rq:job:{job_id}"
    if kind == "healthy":
        failed_job(r, job_id, queue)
    elif kind == "healthy_keyerror":
        failed_job(r, job_id, queue, exc_type="KeyError")
    elif kind == "string_key":
        r.set(key, "not a hash")
    elif kind == "list_key":
        r.rpush(key, "not", "a", "hash")
    elif kind == "set_key":
        r.sadd(key, "not a hash")
    elif kind == "unreadable_data":
        failed_job(r, job_id, queue)
        r.hset(key, "data", b"\x80\x04garbage that is no pickle")
    elif kind == "empty_origin":
        failed_job(r, job_id, queue)
        r.hset(key, "origin", "")
    elif kind == "non_utf8_origin":
        failed_job(r, job_id, queue)
        r.hset(key, "origin", b"caf\xe9-\xff")
    elif kind == "non_utf8_id":
        member = f"j{index}-\xe9".encode("latin-1")
        _copy_job(r, b"rq:job:" + member, f"t{index}")
    elif kind == "non_utf8_id_missing":
        member = f"j{index}-\xff".encode("latin-1")
    elif kind == "colon_id":
        member = f"legacy:{index}".encode()
        _copy_job(r, b"rq:job:" + member, f"t{index}")
    elif kind == "fields_only":
        r.hset(key, "unrelated", "field")
    elif kind == "queue_key_damaged":
        failed_job(r, job_id, "brokenq")
        r.set("rq:queue:brokenq", "not a list")
    elif kind == "rate_limited_unreadable":
        failed_job(r, job_id, queue)
        r.hset(key, mapping={"rate_limit_key": "limit", "data": b"garbage"})
    elif kind != "missing":
        raise ValueError(kind)
    r.zadd(f"rq:failed:{queue}", {member: score})
    return member


def now() -> int:
    return int(time.time())


def contents(r: redis.Redis) -> dict[bytes, object]:
    """Every key's type and value, compared logically (DUMP output of a hash is not stable
    across RESTORE, its table order may change)."""
    readers = {
        b"string": r.get,
        b"list": lambda key: r.lrange(key, 0, -1),
        b"set": r.smembers,
        b"zset": lambda key: r.zrange(key, 0, -1, withscores=True),
        b"hash": r.hgetall,
        b"stream": lambda key: r.xrange(key),
    }
    return {key: (r.type(key), readers[r.type(key)](key)) for key in r.scan_iter(count=1000)}
