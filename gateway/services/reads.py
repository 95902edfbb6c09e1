"""Fetch many jobs in one round trip: HGETALL plus the latest results-stream entry for each."""

from __future__ import annotations

from typing import Any

from redis import Redis

from gateway.services import damaged, keys
from gateway.services.decode import decode_job, orphan

# Jobs per pipeline: bounds the size of one Redis reply when a whole registry is listed.
READ_CHUNK = 1000


def fetch_jobs(
    connection: Redis,
    job_ids: list[str],
    serializer: Any,
    queue_name: str,
    in_failed_registry: bool = False,
    with_results: bool = True,
) -> list[Any]:
    """JobInfo for each id, in order. A missing hash gives None, or an orphan entry when the ids
    come from the failed registry (so a list always matches failed_count). Without
    `with_results` the results streams are not read, and exc_info and result stay None."""
    jobs: list[Any] = []
    for start in range(0, len(job_ids), READ_CHUNK):
        chunk = job_ids[start : start + READ_CHUNK]
        with connection.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hgetall(keys.job_key(job_id))
                if with_results:
                    pipe.xrevrange(keys.results_key(job_id), "+", "-", count=1)
            # One key of the wrong type (say a string at a job key) must not fail the whole page.
            replies = pipe.execute(raise_on_error=False)
        step = 2 if with_results else 1
        for index, job_id in enumerate(chunk):
            raw = damaged.readable(replies[step * index])
            latest = damaged.readable(replies[step * index + 1]) if with_results else None
            if raw:
                default_status = "failed" if in_failed_registry else "created"
                jobs.append(decode_job(job_id, raw, latest, serializer, queue_name, default_status))
            elif in_failed_registry:
                jobs.append(orphan(job_id, queue_name))
            else:
                jobs.append(None)
    return jobs
