"""The one way the harness makes failed jobs: a real `rq worker` fails some, then clones of them
(job hash + results stream restored under new ids, same registry score) fill the failed registry
up to N.

Used by every benchmark (run through bench/snapshots.py, load, list_memory) and by the real-Redis
tests (tests/realredis/test_crash.py and others)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result

from bench.infra import REPO, RQ_BIN
from gateway.demo.jobs import parse_report

CHUNK = 1000  # commands per pipeline
QUEUE = "default"


def registry_key(queue: str = QUEUE) -> str:
    return FailedJobRegistry.key_template.format(queue)


def job_keys(job_id: str) -> tuple[str, str]:
    """The job hash and its results stream: what a failed job is made of."""
    return Job.key_for(job_id), Result.get_key(job_id)


def bad_report(i: int) -> tuple:
    """parse_report's arguments for job i: it fails on every one of them."""
    return (f"bad-{i}",)


def fail_with_worker(
    r: redis.Redis,
    redis_url: str,
    n: int,
    queue: str = QUEUE,
    func: Callable = parse_report,
    args_for: Callable[[int], tuple] = bad_report,
) -> list[str]:
    """Enqueue n jobs in pipelines and let one real `rq worker --burst` (SimpleWorker) fail them.
    Returns their ids in enqueue order."""
    ids = enqueue(r, n, queue, func, args_for)
    run_burst_worker(redis_url, queue)
    failed = {m.decode() for m in r.zrange(registry_key(queue), 0, -1)}
    missing = set(ids) - failed
    if missing:
        raise RuntimeError(f"the worker did not fail {len(missing)} of {n} jobs")
    return ids


def enqueue(
    r: redis.Redis,
    n: int,
    queue: str = QUEUE,
    func: Callable = parse_report,
    args_for: Callable[[int], tuple] = bad_report,
) -> list[str]:
    """n jobs func(*args_for(i)) enqueued with Queue.enqueue_many, CHUNK per pipeline."""
    q = Queue(queue, connection=r)
    ids: list[str] = []
    for start in range(0, n, CHUNK):
        with r.pipeline() as pipe:
            datas = [Queue.prepare_data(func, args_for(i)) for i in range(start, min(n, start + CHUNK))]
            ids.extend(job.id for job in q.enqueue_many(datas, pipeline=pipe))
            pipe.execute()
    return ids


def run_burst_worker(redis_url: str, queue: str = QUEUE, timeout: float | None = 600) -> None:
    """One real `rq worker --burst --worker-class rq.worker.SimpleWorker` until the queue is empty."""
    argv = [str(RQ_BIN), "worker", "--burst", "--worker-class", "rq.worker.SimpleWorker", "--quiet"]
    subprocess.run(
        [*argv, "--url", redis_url, queue],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout,
    )


# RESTOREs a source job's dumps under the ids <id>-c<k> for k in [k_from, k_to] and adds each to the
# failed registry with the source's score. Redis does the copying: 3 commands per clone sent from
# Python took 7 s for 100k clones on the 2-core CI machine, this 3 s (Redis's own RESTORE/ZADD
# work is most of that), and it leaves the CPU to the other test worker. One call copies one
# source: a few hundred clones, a few milliseconds inside Redis.
_CLONE = """
local id, score = ARGV[3], ARGV[8]
for k = tonumber(ARGV[9]), tonumber(ARGV[10]) do
    local new_id = id .. '-c' .. k
    redis.call('RESTORE', ARGV[1] .. new_id, ARGV[5], ARGV[4])
    redis.call('RESTORE', ARGV[2] .. new_id, ARGV[7], ARGV[6])
    redis.call('ZADD', KEYS[1], score, new_id)
end
"""


def clone_failed(r: redis.Redis, n: int, queue: str = QUEUE) -> list[str]:
    """Grow the queue's failed registry to n entries by cloning its current entries under new ids
    `<id>-c<k>`. Returns every id in the registry afterwards."""
    key = registry_key(queue)
    sources = [(m.decode(), s) for m, s in r.zrange(key, 0, -1, withscores=True)]
    if not sources:
        raise ValueError(f"nothing to clone: the failed registry of {queue!r} is empty")
    # Round k clones the first (n - have) sources, as many as are still missing: source i gets
    # `rounds` clones, one more if it is among the first `extra` of the last round.
    rounds, extra = divmod(max(0, n - len(sources)), len(sources))
    job_prefix, results_prefix = (k.removesuffix("-") for k in job_keys("-"))
    clone = r.register_script(_CLONE)
    for start in range(0, len(sources), CHUNK):
        chunk = sources[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            for job_id, _ in chunk:
                for k in job_keys(job_id):
                    pipe.dump(k)
                    pipe.pttl(k)
            replies = pipe.execute()
        with r.pipeline(transaction=False) as pipe:
            for index, (job_id, score) in enumerate(chunk):
                copies = rounds + (1 if start + index < extra else 0)
                if copies == 0:
                    continue
                job_dump, job_ttl, res_dump, res_ttl = replies[4 * index : 4 * index + 4]
                args = [job_prefix, results_prefix, job_id, job_dump, max(job_ttl, 0)]
                clone(
                    keys=[key], args=[*args, res_dump, max(res_ttl, 0), repr(score), 1, copies], client=pipe
                )
            pipe.execute()
    return [m.decode() for m in r.zrange(key, 0, -1)]


def keep_first(r: redis.Redis, n: int, queue: str = QUEUE) -> None:
    """Keep the first n entries of the failed registry (and their keys); drop the rest."""
    key = registry_key(queue)
    drop = [x.decode() for x in r.zrange(key, n, -1)]
    for start in range(0, len(drop), CHUNK):
        chunk = drop[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            pipe.zrem(key, *chunk)
            pipe.delete(*[k for job_id in chunk for k in job_keys(job_id)])
            pipe.execute()


def seed_failed(
    r: redis.Redis, redis_url: str, n: int, queue: str = QUEUE, with_worker: int = 300
) -> list[str]:
    """n failed jobs on `queue`: min(n, with_worker) failed by a real worker, the rest cloned."""
    fail_with_worker(r, redis_url, min(n, with_worker), queue)
    return clone_failed(r, n, queue)
