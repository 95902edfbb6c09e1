"""The contestants that do the same work as the gateway: its HTTP client side, RQ's own per-job
loop (what rq-dashboard and `rq requeue --all` do) and the floor (raw redis-py pipelines doing the
least Redis and Python work that gives the same result). bench/README.md lists exactly what each
does per operation; the stats floor is a separate app, bench/floor_app.py."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from datetime import datetime, timezone
from typing import Any

import httpx
import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.utils import utcformat

from bench.seed import CHUNK, QUEUE, job_keys, registry_key
from bench.timing import expect

REGISTRY_KEY = registry_key(QUEUE)
QUEUE_KEY = Queue.redis_queue_namespace_prefix + QUEUE
GRAPHQL_PAGE = (
    "{ failedJobs(first: 100) { nodes { id funcName args kwargs createdAt endedAt excInfo result } } }"
)


def results_key(job_id: str) -> str:
    return job_keys(job_id)[1]


# The gateway: one HTTP request with a persistent client, checked after the timing.


def http_json(client: httpx.Client, method: str, url: str, **kwargs) -> Any:
    response = client.request(method, url, **kwargs)
    expect(response.status_code == 200, f"{method} {url} -> {response.status_code} {response.text[:200]}")
    return response


# The floor: raw redis-py pipelines, in the benchmark process.


def floor_retry(r: redis.Redis) -> int:
    """ZRANGE all ids, then per 1,000: ZREM (variadic) + HSET status/enqueued_at/started_at/ended_at
    per job + RPUSH (variadic) onto the queue, in one non-transactional pipeline."""
    ids = r.zrange(REGISTRY_KEY, 0, -1)
    now = utcformat(datetime.now(timezone.utc))
    prefix = Job.redis_job_namespace_prefix.encode()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            pipe.zrem(REGISTRY_KEY, *chunk)
            for job_id in chunk:
                pipe.hset(
                    prefix + job_id,
                    mapping={"status": "queued", "enqueued_at": now, "started_at": "", "ended_at": ""},
                )
            pipe.rpush(QUEUE_KEY, *chunk)
            pipe.execute()
    return len(ids)


def floor_clear(r: redis.Redis) -> int:
    """ZRANGE all ids, then per 1,000: ZREM (variadic) + DEL of every job hash and results stream."""
    ids = r.zrange(REGISTRY_KEY, 0, -1)
    job_prefix = Job.redis_job_namespace_prefix.encode()
    results_prefix = results_key("").encode()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            pipe.zrem(REGISTRY_KEY, *chunk)
            pipe.delete(*[job_prefix + i for i in chunk], *[results_prefix + i for i in chunk])
            pipe.execute()
    return len(ids)


def _text(raw: bytes | None) -> str | None:
    return raw.decode() if raw else None


def floor_decode(job_id: bytes, raw: dict, latest: list) -> dict:
    """The same JSON fields the REST list returns, with the least Python: zlib + pickle for the
    call, base64 + zlib for the traceback, stored timestamps passed through as text."""
    func_name, _instance, args, kwargs = pickle.loads(zlib.decompress(raw[b"data"]))
    exc_info = None
    if latest:
        encoded = latest[0][1].get(b"exc_string")
        if encoded:
            exc_info = zlib.decompress(base64.b64decode(encoded)).decode()
    status = raw[b"status"].decode()
    return {
        "job_id": job_id.decode(),
        "status": status,
        "func_name": func_name,
        "args": list(args),
        "kwargs": kwargs,
        "created_at": _text(raw.get(b"created_at")),
        "enqueued_at": _text(raw.get(b"enqueued_at")),
        "started_at": _text(raw.get(b"started_at")),
        "ended_at": _text(raw.get(b"ended_at")),
        "result": None,
        "exc_info": exc_info,
        "origin": _text(raw.get(b"origin")),
        "description": _text(raw.get(b"description")),
        "is_finished": status == "finished",
        "is_failed": status == "failed",
        "is_started": status == "started",
        "is_queued": status == "queued",
    }


def floor_list(r: redis.Redis, limit: int | None) -> bytes:
    """ZRANGE (first `limit` or all), then per 1,000 ids one pipeline of HGETALL + XREVRANGE COUNT 1,
    decoded into a list of dicts and json.dumps'd: the REST response body minus HTTP."""
    ids = r.zrange(REGISTRY_KEY, 0, -1 if limit is None else limit - 1)
    job_prefix = Job.redis_job_namespace_prefix.encode()
    results_prefix = results_key("").encode()
    jobs = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hgetall(job_prefix + job_id)
                pipe.xrevrange(results_prefix + job_id, "+", "-", count=1)
            replies = pipe.execute()
        for index, job_id in enumerate(chunk):
            jobs.append(floor_decode(job_id, replies[2 * index], replies[2 * index + 1]))
    return json.dumps(jobs).encode()


# RQ's per-job loop: its public API, one job at a time.


def loop_retry(r: redis.Redis) -> int:
    """What rq-dashboard and `rq requeue --all` do: FailedJobRegistry.requeue, one job at a time."""
    registry = FailedJobRegistry(QUEUE, connection=r)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.requeue(job_id)
    return len(ids)


def loop_clear(r: redis.Redis) -> int:
    """Job.fetch(id).delete() per job (delete() also removes it from the failed registry)."""
    registry = FailedJobRegistry(QUEUE, connection=r)
    ids = registry.get_job_ids()
    for job_id in ids:
        Job.fetch(job_id, connection=r).delete()
    return len(ids)


def _iso(value: datetime | None) -> str | None:
    return utcformat(value) if value else None


def loop_list(r: redis.Redis, limit: int | None) -> bytes:
    """Job.fetch_many (one pipeline of HGETALLs) + job.latest_result() per job for exc_info."""
    registry = FailedJobRegistry(QUEUE, connection=r)
    ids = registry.get_job_ids(0, -1 if limit is None else limit - 1)
    out = []
    for job in Job.fetch_many(ids, connection=r):
        result = job.latest_result()
        status = job.get_status(refresh=False)
        status = getattr(status, "value", status)
        out.append(
            {
                "job_id": job.id,
                "status": status,
                "func_name": job.func_name,
                "args": list(job.args),
                "kwargs": job.kwargs,
                "created_at": _iso(job.created_at),
                "enqueued_at": _iso(job.enqueued_at),
                "started_at": _iso(job.started_at),
                "ended_at": _iso(job.ended_at),
                "result": None,
                "exc_info": result.exc_string if result else None,
                "origin": job.origin,
                "description": job.description,
                "is_finished": status == "finished",
                "is_failed": status == "failed",
                "is_started": status == "started",
                "is_queued": status == "queued",
            }
        )
    return json.dumps(out).encode()
