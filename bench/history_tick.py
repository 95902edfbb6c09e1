"""Redis time per tick of the queue history writer (gateway/services/history/writer.py), on a
redis-server of its own:

    python -m bench.history_tick               # N = 100,000 and 1,000,000 failed jobs (~1 minute)
    python -m bench.history_tick --n 100000

For each N: the first tick (every entry new), a steady tick (nothing new), a tick after N/10 new
failures and a tick after N/10 retried away. Per tick: the Redis time of the writer's commands
(INFO commandstats: the scripts, which include the commands they call, and the HMGETs of job
fields), the slowest single command (SLOWLOG with no threshold), the number of scripts, and the
wall clock of the tick in this process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis

from bench.infra import log, redis_server
from gateway.services.domain.rqtime import rq_time_of as rq_time
from gateway.services.history.writer import HistoryWriter

REGISTRY = "rq:failed:default"
TOP_LEVEL = ("evalsha", "hmget", "llen", "lindex", "time", "get", "smembers")
CHUNK = 5000


def seed(r: redis.Redis, ids: range, ended: float) -> None:
    """Failed jobs as the history reads them: a hash with ended_at/started_at, a registry entry."""
    stamp = rq_time(ended)
    for begin in range(ids.start, ids.stop, CHUNK):
        chunk = range(begin, min(ids.stop, begin + CHUNK))
        with r.pipeline(transaction=False) as pipe:
            for i in chunk:
                pipe.hset(f"rq:job:j{i}", mapping={"ended_at": stamp, "started_at": stamp})
            pipe.zadd(REGISTRY, {f"j{i}": int(ended) + 31_536_000 for i in chunk})
            pipe.execute()


def measure(r: redis.Redis, writer: HistoryWriter, label: str) -> str:
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.config_resetstat()
    started = time.perf_counter()
    assert writer.tick(), label
    wall = time.perf_counter() - started
    stats = r.info("commandstats")
    usec = sum(stats.get(f"cmdstat_{name}", {}).get("usec", 0) for name in TOP_LEVEL)
    scripts = stats.get("cmdstat_evalsha", {}).get("calls", 0)
    slowest = max(
        (e["duration"] for e in r.slowlog_get(100_000) if e["command"][:7] == b"EVALSHA"), default=0
    )
    r.config_set("slowlog-log-slower-than", 10_000)
    return f"| {label} | {usec / 1000:.0f} ms | {slowest / 1000:.2f} ms | {scripts} | {wall:.2f} s |"


def run(r: redis.Redis, n: int) -> list[str]:
    r.flushall()
    r.sadd("rq:queues", "rq:queue:default")
    r.config_set("slowlog-max-len", 100_000)
    now = float(r.time()[0])
    clock = [now]
    writer = HistoryWriter(r, 3600, 300, 1, clock=lambda: clock[0])
    seed(r, range(n), now - 3)
    rows = [measure(r, writer, f"{n:,}: first tick")]
    clock[0] += 5
    rows.append(measure(r, writer, f"{n:,}: steady tick"))
    seed(r, range(n, n + n // 10), clock[0])
    clock[0] += 5
    rows.append(measure(r, writer, f"{n:,}: {n // 10:,} new failures"))
    for begin in range(0, n // 10, 1000):
        r.zrem(REGISTRY, *(f"j{i}" for i in range(begin, min(n // 10, begin + 1000))))
    clock[0] += 5
    rows.append(measure(r, writer, f"{n:,}: {n // 10:,} retried away"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="failed jobs (repeatable)")
    sizes = parser.parse_args().n or [100_000, 1_000_000]
    print("| tick | Redis time | slowest script | scripts | wall |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as (_, r):
        for n in sizes:
            log(f"history ticks at N = {n:,}")
            for row in run(r, n):
                print(row, flush=True)


if __name__ == "__main__":
    main()
