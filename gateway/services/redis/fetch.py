"""Fetch many jobs in one round trip: HGETALL plus the latest results-stream entry for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis

from gateway.services.redis import damaged, keys, scripts
from gateway.services.redis.decode import decode_fields, decode_job, orphan

# Jobs per pipeline: bounds the size of one Redis reply when a whole registry is listed.
READ_CHUNK = 1000
# Jobs per job_fields.lua call, so one call holds Redis for about 2 ms (measured over the
# benchmark's jobs: about 3.3 µs a job for their fields, 5 µs more for the newest result).
FIELDS_CALL_JOBS = 500
FIELDS_WITH_RESULTS_CALL_JOBS = 250


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
    With `fields`, only those hash fields are read (lua/job_fields.lua, with the newest result's
    traceback when `with_results`): the JobInfo then holds only what they say, for
    readers that test a few fields of many jobs (search) and fetch the matches whole."""
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
    if fields is not None:
        width = len(fields) + (1 if with_results else 0)
        flat = _read_fields(connection, job_ids, fields, with_results)

        def decode_fields_read() -> list[Any]:
            jobs: list[Any] = []
            for index, ref in enumerate(job_ids):
                job_id = id_of(ref)
                values = flat[width * index : width * (index + 1)]
                job = decode_fields(job_id, fields, values, serializer, queue_name, default_status)
                jobs.append(job or (orphan(job_id, queue_name) if in_failed_registry else None))
            return jobs

        return decode_fields_read
    replies = _read_hashes(connection, job_ids, with_results)
    step = 2 if with_results else 1

    def decode_read() -> list[Any]:
        jobs: list[Any] = []
        for index, ref in enumerate(job_ids):
            job_id = id_of(ref)
            raw = replies[step * index]
            latest = replies[step * index + 1] if with_results else None
            jobs.append(_job_of(job_id, raw, latest, serializer, queue_name, in_failed_registry))
        return jobs

    return decode_read


def _read_hashes(connection: Redis, job_ids: list[str | bytes], with_results: bool) -> list[Any]:
    """Each job's hash (HGETALL), then its latest result when asked, in order: pipelines of
    READ_CHUNK jobs."""
    replies: list[Any] = []
    for start in range(0, len(job_ids), READ_CHUNK):
        with connection.pipeline(transaction=False) as pipe:  # pyright: ignore[reportUnknownMemberType]  -- redis-py leaves shard_hint unannotated
            for ref in job_ids[start : start + READ_CHUNK]:
                job_key, results_key = _keys_of(ref)
                pipe.hgetall(job_key)
                if with_results:
                    pipe.xrevrange(results_key, "+", "-", count=1)
            # One key of the wrong type (say a string at a job key) must not fail the whole page.
            replies.extend(damaged.execute(pipe))
    return replies


def _read_fields(
    connection: Redis, job_ids: list[str | bytes], fields: tuple[str, ...], with_results: bool
) -> list[Any]:
    """`fields` of each job, flat (len(fields) values a job, None where absent), then, with
    results, the newest results entry's exc_string: one script call per few hundred jobs
    (lua/job_fields.lua). A pipeline of HMGET and XREVRANGE per job cost an `exc:` scan four times
    the Python time of an `args:` one."""
    read = connection.register_script(scripts.JOB_FIELDS)
    results = keys.RESULTS_KEY_PARTS if with_results else ("", "")
    per_call = FIELDS_WITH_RESULTS_CALL_JOBS if with_results else FIELDS_CALL_JOBS
    flat: list[Any] = []
    for start in range(0, len(job_ids), per_call):
        chunk = job_ids[start : start + per_call]
        flat.extend(read(args=[keys.JOB_PREFIX, *results, len(fields), *fields, *chunk]))
    return flat


def _job_of(
    job_id: str, raw: dict[bytes, bytes], latest: Any, serializer: Any, queue_name: str, in_failed: bool
) -> Any:
    if raw:
        return decode_job(job_id, raw, latest, serializer, queue_name, "failed" if in_failed else "created")
    return orphan(job_id, queue_name) if in_failed else None


def id_of(ref: str | bytes) -> str:
    """The id shown for a job reference: escaped when it is not UTF-8."""
    return ref if isinstance(ref, str) else damaged.shown(ref)


def _keys_of(ref: str | bytes) -> tuple[str | bytes, str | bytes]:
    """(job key, results key) of an id, or of a member that is not UTF-8 (as exact bytes)."""
    if isinstance(ref, str):
        return keys.job_key(ref), keys.results_key(ref)
    prefix, suffix = keys.RESULTS_KEY_PARTS
    return keys.JOB_PREFIX.encode() + ref, prefix.encode() + ref + suffix.encode()
