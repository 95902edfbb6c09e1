"""Fetch many jobs in one round trip: HGETALL plus the latest results-stream entry for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.services.redis import damaged, keys, scripts
from gateway.services.redis.decode import decode_fields, decode_job, orphan

# Jobs per pipeline: bounds the size of one Redis reply when a whole registry is listed.
READ_CHUNK = 1000


def fetch_jobs(
    connection: Redis,
    job_ids: list[str | bytes],
    serializer: Any,
    queue_name: str,
    in_failed_registry: bool = False,
    with_results: bool = True,
    fields: tuple[str, ...] | None = None,
) -> list[Any]:
    """JobInfo for each id, in order. A missing hash gives None, or an orphan entry when the ids
    come from the failed registry (so a list always matches failed_count). Without
    `with_results` the results streams are not read, and exc_info and result stay None. An id
    may be a registry member that is not UTF-8 (bytes): its job is read, and its id shown escaped.
    With `fields`, only those hash fields are read (HMGET): the JobInfo then holds only what they
    say, for readers that test a few fields of many jobs (search) and fetch the matches whole."""
    return read_jobs(connection, job_ids, serializer, queue_name, in_failed_registry, with_results, fields)()


def read_jobs(
    connection: Redis,
    job_ids: list[str | bytes],
    serializer: Any,
    queue_name: str,
    in_failed_registry: bool = False,
    with_results: bool = True,
    fields: tuple[str, ...] | None = None,
) -> Callable[[], list[Any]]:
    """fetch_jobs in two steps: the Redis reads now, the decoding when the returned function is
    called. A scan reads its next chunk on one thread while another decodes the chunk before
    (search's read-ahead): Redis's time and the gateway's decoding overlap."""
    default_status = "failed" if in_failed_registry else "created"
    if fields is not None and not with_results:
        width = len(fields)
        flat = _read_fields(connection, job_ids, fields)

        def decode_fields_read() -> list[Any]:
            jobs: list[Any] = []
            for index, ref in enumerate(job_ids):
                job_id = id_of(ref)
                values = flat[width * index : width * (index + 1)]
                job = decode_fields(job_id, fields, values, serializer, queue_name, default_status)
                jobs.append(job or (orphan(job_id, queue_name) if in_failed_registry else None))
            return jobs

        return decode_fields_read
    replies = _read_hashes(connection, job_ids, with_results, fields)
    step = 2 if with_results else 1

    def decode_read() -> list[Any]:
        jobs: list[Any] = []
        for index, ref in enumerate(job_ids):
            job_id = id_of(ref)
            raw = replies[step * index]
            if fields is not None:
                raw = _named_fields(fields, raw)
            latest = replies[step * index + 1] if with_results else None
            jobs.append(_job_of(job_id, raw, latest, serializer, queue_name, in_failed_registry))
        return jobs

    return decode_read


def _read_hashes(
    connection: Redis, job_ids: list[str | bytes], with_results: bool, fields: tuple[str, ...] | None
) -> list[Any]:
    """Each job's hash (HGETALL, or HMGET of `fields`), then its latest result when asked, in
    order: pipelines of READ_CHUNK jobs."""
    replies: list[Any] = []
    for start in range(0, len(job_ids), READ_CHUNK):
        with connection.pipeline(transaction=False) as pipe:  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves shard_hint unannotated
            for ref in job_ids[start : start + READ_CHUNK]:
                job_key, results_key = _keys_of(ref)
                if fields is None:
                    pipe.hgetall(job_key)
                else:
                    pipe.hmget(job_key, fields)
                if with_results:
                    pipe.xrevrange(results_key, "+", "-", count=1)
            # One key of the wrong type (say a string at a job key) must not fail the whole page.
            replies.extend(damaged.execute(pipe))
    return replies


def _read_fields(connection: Redis, job_ids: list[str | bytes], fields: tuple[str, ...]) -> list[Any]:
    """`fields` of each job, flat (len(fields) values a job, None where absent): one script call
    per READ_CHUNK jobs (lua/job_fields.lua)."""
    read = connection.register_script(scripts.JOB_FIELDS)
    flat: list[Any] = []
    for start in range(0, len(job_ids), READ_CHUNK):
        flat.extend(read(args=[keys.JOB_PREFIX, len(fields), *fields, *job_ids[start : start + READ_CHUNK]]))
    return flat


def _job_of(
    job_id: str, raw: dict[bytes, bytes], latest: Any, serializer: Any, queue_name: str, in_failed: bool
) -> Any:
    if raw:
        return decode_job(job_id, raw, latest, serializer, queue_name, "failed" if in_failed else "created")
    return orphan(job_id, queue_name) if in_failed else None


def _named_fields(fields: tuple[str, ...], values: list[bytes | None] | None) -> dict[bytes, bytes]:
    """An HMGET reply as the hash it reads (absent fields left out), so it decodes as HGETALL's."""
    return {name.encode(): value for name, value in zip(fields, values or (), strict=False) if value}


def id_of(ref: str | bytes) -> str:
    """The id shown for a job reference: escaped when it is not UTF-8."""
    return ref if isinstance(ref, str) else damaged.shown(ref)


def _keys_of(ref: str | bytes) -> tuple[str | bytes, str | bytes]:
    """(job key, results key) of an id, or of a member that is not UTF-8 (as exact bytes)."""
    if isinstance(ref, str):
        return keys.job_key(ref), keys.results_key(ref)
    prefix, suffix = keys.RESULTS_KEY_PARTS
    return keys.JOB_PREFIX.encode() + ref, prefix.encode() + ref + suffix.encode()
