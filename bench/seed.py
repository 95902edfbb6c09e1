"""Many failed jobs, quickly: a real `rq worker` fails a few hundred, then clones of them (job hash
+ results stream restored under new ids, same registry score) fill the failed registry up to N.

Shared by the load test (bench/load.py) and the crash tests (tests/realredis/test_crash.py);
bench/run.py does the same with its own snapshot machinery."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result

from gateway.demo.jobs import parse_report

REPO = Path(__file__).resolve().parents[1]
CHUNK = 1000  # commands per pipeline
RQ_BIN = Path(sys.executable).parent / "rq"


def registry_key(queue: str) -> str:
    return FailedJobRegistry.key_template.format(queue)


def fail_with_worker(
    r: redis.Redis,
    redis_url: str,
    n: int,
    queue: str = "default",
    func: Callable = parse_report,
    args_for: Callable[[int], tuple] = lambda i: (f"bad-{i}",),
) -> list[str]:
    """Enqueue n jobs in pipelines and let one real `rq worker --burst` (SimpleWorker) fail them.
    Returns their ids in enqueue order."""
    q = Queue(queue, connection=r)
    ids: list[str] = []
    for start in range(0, n, CHUNK):
        with r.pipeline() as pipe:
            datas = [Queue.prepare_data(func, args_for(i)) for i in range(start, min(n, start + CHUNK))]
            ids.extend(job.id for job in q.enqueue_many(datas, pipeline=pipe))
            pipe.execute()
    argv = [str(RQ_BIN), "worker", "--burst", "--worker-class", "rq.worker.SimpleWorker", "--quiet"]
    subprocess.run(
        [*argv, "--url", redis_url, queue],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    failed = {m.decode() for m in r.zrange(registry_key(queue), 0, -1)}
    missing = set(ids) - failed
    if missing:
        raise RuntimeError(f"the worker did not fail {len(missing)} of {n} jobs")
    return ids


def clone_failed(r: redis.Redis, n: int, queue: str = "default") -> list[str]:
    """Grow the queue's failed registry to n entries by cloning its current entries under new ids
    `<id>-c<k>`. Returns every id in the registry afterwards."""
    key = registry_key(queue)
    sources = [(m.decode(), s) for m, s in r.zrange(key, 0, -1, withscores=True)]
    if not sources:
        raise ValueError(f"nothing to clone: the failed registry of {queue!r} is empty")
    dumps: dict[str, tuple[list, list]] = {}
    for start in range(0, len(sources), CHUNK):
        chunk = sources[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            for job_id, _ in chunk:
                for k in (Job.key_for(job_id), Result.get_key(job_id)):
                    pipe.dump(k)
                    pipe.pttl(k)
            replies = pipe.execute()
        for index, (job_id, _) in enumerate(chunk):
            base = 4 * index
            dumps[job_id] = (replies[base : base + 2], replies[base + 2 : base + 4])
    have, k = len(sources), 0
    while have < n:
        k += 1
        batch = sources[: n - have]
        for start in range(0, len(batch), CHUNK):
            with r.pipeline(transaction=False) as pipe:
                for job_id, score in batch[start : start + CHUNK]:
                    new_id = f"{job_id}-c{k}"
                    (job_dump, job_ttl), (res_dump, res_ttl) = dumps[job_id]
                    pipe.restore(Job.key_for(new_id), max(job_ttl, 0), job_dump)
                    pipe.restore(Result.get_key(new_id), max(res_ttl, 0), res_dump)
                    pipe.zadd(key, {new_id: score})
                pipe.execute()
        have += len(batch)
    return [m.decode() for m in r.zrange(key, 0, -1)]


def seed_failed(
    r: redis.Redis, redis_url: str, n: int, queue: str = "default", with_worker: int = 300
) -> list[str]:
    """n failed jobs on `queue`: min(n, with_worker) failed by a real worker, the rest cloned."""
    fail_with_worker(r, redis_url, min(n, with_worker), queue)
    return clone_failed(r, n, queue)
