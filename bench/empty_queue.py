"""Emptying a queue (README "Queues, registries and workers"): the gateway's chunked empty
against RQ's own Queue.empty, which deletes the whole queue in one Lua call, alternating on one
redis-server of its own, with the longest PING another client (bench/pinger.py) saw during each.

    python -m bench.empty_queue [N]      # N queued jobs per round (default 100,000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from rq import Queue

from bench.infra import log, redis_server
from bench.pinger import Pinger
from gateway.demo import jobs
from gateway.services.writes.empty_queue import empty_queue

ROUNDS = 2


def seed(r: redis.Redis, count: int) -> None:
    queue = Queue("default", connection=r)
    for start in range(0, count, 5000):
        with r.pipeline() as pipe:
            for i in range(start, min(count, start + 5000)):
                queue.enqueue(jobs.add, i, i, pipeline=pipe)
            pipe.execute()


def measured(url: str, workdir: Path, empty: Callable[[], object]) -> tuple[float, float]:
    """(seconds the empty took, the longest PING meanwhile, in seconds)."""
    with Pinger(url, workdir / "pings.txt") as pinger:
        start = time.perf_counter()
        empty()
        took = time.perf_counter() - start
    return took, max(pinger.pings)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-empty-") as tmp, redis_server(Path(tmp)) as (url, r):
        contestants = {
            "gateway (500 a call)": lambda: empty_queue(r, "default"),
            "RQ Queue.empty (one call)": lambda: Queue("default", connection=r).empty(),
        }
        print(f"| Empty {count:,} queued jobs | Seconds | Jobs/s | PING max |")
        print("|---|---|---|---|")
        for _ in range(ROUNDS):
            for name, empty in contestants.items():
                seed(r, count)
                took, worst = measured(url, Path(tmp), empty)
                assert r.llen("rq:queue:default") == 0
                log(f"{name}: {took:.2f} s")
                print(f"| {name} | {took:.2f} | {count / took:,.0f} | {worst * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
