"""The tracked-operations rows of BENCHMARKS.md (issue 13 item 4), on a redis-server of its own:

    python -m bench.operations                    # N = 1,000,000 (about 8 minutes, 3 GB of Redis)
    python -m bench.operations --n 100000         # a quicker look

For retry and for delete, over N failed jobs (a real worker fails some, clones fill up to N):
end-to-end time from POST /api/v1/operations to `succeeded` on the CLI-started gateway, the
gateway's RSS growth, the slowest PING another client saw, and a real `rq worker` on another
queue finishing jobs all along (none lost). Beside each, the floor: Redis doing the minimum writes
per job (retry: ZREM + HSET status + RPUSH; delete: ZREM + DEL of the five keys RQ's Job.delete
removes), pipelined 1,000 jobs at a time, measured over --floor-n jobs (by default the rows' own
N: Redis's cost per job grows with the size of its data) and given per job. Also the contract's
synchronous retry-all at --contract-n jobs, beside the retry floor measured at that N. Where the
time goes: the CPU time of Redis's main thread (INFO cpu) and its time in scripts (INFO
commandstats), and the gateway's CPU time (/proc), against the wall clock.

The gateway runs with its defaults, queue history included; each measured window starts once the
history writer has looked at every seeded job (history_caught_up), as it has in production, so
its steady ticks (and its forgetting of the jobs the operation removes) fall inside the window.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import redis
from rq.intermediate_queue import IntermediateQueue

from bench.infra import BIN, REPO, cpu_seconds, log, proc_status, redis_server, start_gateway
from bench.pinger import Pinger
from bench.seed import enqueue, seed_failed
from gateway.demo import jobs
from gateway.services.history.layout import mirror_key
from gateway.services.redis import keys

OTHER_JOBS = 3000  # a forking rq worker does tens a second: it outlasts the operation


class Sampler:
    """The PING client (bench/pinger.py, a process of its own) and, in a thread, the gateway's RSS
    every 0.1 s."""

    def __init__(self, url: str, pid: int, workdir: Path):
        self._pid = pid
        self._stop = threading.Event()
        self._pinger = Pinger(url, workdir / "pings.txt", str(BIN / "python"))
        self.pings: list[float] = []
        self.rss: list[int] = []
        self._memory_thread = threading.Thread(target=self._memory)

    def _memory(self) -> None:
        while not self._stop.wait(0.1):
            self.rss.append(proc_status(self._pid)["VmRSS"])

    def __enter__(self) -> Sampler:
        self._pinger.__enter__()
        self._memory_thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._memory_thread.join()
        self._pinger.__exit__()
        self.pings = self._pinger.pings


def redis_cpu_seconds(r: redis.Redis) -> float:
    """CPU seconds redis-server's main thread has used (INFO cpu): all of its work, where
    commandstats leaves out each command's parsing and freeing, and counts a script's commands
    twice (its own line and the script's)."""
    cpu = r.info("cpu")
    return cpu["used_cpu_user_main_thread"] + cpu["used_cpu_sys_main_thread"]


def _script_seconds(r: redis.Redis) -> float:
    stats = r.info("commandstats")
    return sum(v["usec"] for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")) / 1e6


def history_caught_up(r: redis.Redis, timeout: float = 300) -> float:
    """Wait until the gateway's history writer has looked at every failed job (its seen set holds
    the whole registry): in production a million failed jobs arrive over time and the writer
    keeps up; here they arrive at once, and its first walk over them (about a minute at 1M) would
    run inside the measured window. Answers the seconds waited."""
    started = time.perf_counter()
    mirror = mirror_key("failed", "default")
    while r.zcard(mirror) < r.zcard("rq:failed:default"):
        if time.perf_counter() - started > timeout:
            raise RuntimeError("the history writer did not catch up")
        time.sleep(0.5)
    return time.perf_counter() - started


def operation_row(url: str, r: redis.Redis, workdir: Path, action: str, n: int) -> dict[str, Any]:
    r.flushall(asynchronous=True)  # a million jobs' keys: freed in the background
    log(f"seeding {n:,} failed jobs for {action}")
    seed_failed(r, url, n)
    enqueue(r, OTHER_JOBS, "other", jobs.add, lambda i: (i, 1))
    gateway = start_gateway(url, workdir)
    worker = subprocess.Popen(
        [str(BIN / "rq"), "worker", "--burst", "--url", url, "other"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        log(f"history writer caught up after {history_caught_up(r):.1f} s")
        while r.zcard("rq:finished:other") == 0:
            time.sleep(0.05)
        rss_before = proc_status(gateway.pid)["VmRSS"]
        cpu_before = cpu_seconds(gateway.pid)
        r.config_resetstat()
        cpu_redis_before = redis_cpu_seconds(r)
        r.config_set("slowlog-log-slower-than", 5000)  # µs: Redis's own view of what made PINGs wait
        r.config_set("slowlog-max-len", 10000)
        r.slowlog_reset()
        load = os.getloadavg()[0]
        with Sampler(url, gateway.pid, workdir) as sampler:
            started = time.perf_counter()
            body = httpx.post(
                f"{gateway.base}/api/v1/operations",
                json={"action": action, "selector": {"all": True}},
                timeout=60,
            ).json()
            finished_before = r.zcard("rq:finished:other")
            while True:
                body = httpx.get(f"{gateway.base}/api/v1/operations/{body['id']}", timeout=60).json()
                if body["status"] != "running":
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            finished_during = r.zcard("rq:finished:other") - finished_before
        cpu = cpu_seconds(gateway.pid) - cpu_before
        in_scripts = _script_seconds(r)
        redis_cpu = redis_cpu_seconds(r) - cpu_redis_before
        slow = r.slowlog_get(10000)
        for entry in sorted(slow, key=lambda e: -e["duration"])[:3]:
            log(f"slow in Redis: {entry['duration'] / 1000:.1f} ms {entry['command'][:80]!r}")
        worker.terminate()  # a warm shutdown: the job under way finishes
        worker.wait(timeout=60)
        # None lost: every job of the other queue finished, or still waits in its queue. A stop
        # that lands between RQ's dequeue and the job's start leaves the job in RQ's intermediate
        # queue (the worker is not yet busy, so it stops at once), and RQ's own maintenance puts
        # it back later: RQ's, not lost, counted apart.
        stranded = r.llen(IntermediateQueue.get_intermediate_queue_key("rq:queue:other"))
        finished = r.zcard("rq:finished:other") + r.llen("rq:queue:other") + stranded
    finally:
        if worker.poll() is None:
            worker.kill()
        gateway.stop()
    assert body["status"] == "succeeded" and body["acted"] == n, body
    row = {
        "action": action,
        "n": n,
        "seconds": seconds,
        "rate": n / seconds,
        "rss_growth_mb": (max(sampler.rss, default=rss_before) - rss_before) / 2**20,
        "ping_max_ms": max(sampler.pings) * 1000,
        "ping_p99_ms": statistics.quantiles(sampler.pings, n=100)[-1] * 1000,
        "pings_over_20ms": sum(1 for p in sampler.pings if p > 0.020),
        "pings": len(sampler.pings),
        "redis_longest_ms": max((e["duration"] for e in slow), default=0) / 1000,
        "redis_over_5ms": len(slow),
        "worker_finished_during": finished_during,
        "worker_lost": OTHER_JOBS - finished,
        "worker_stranded": stranded,
        "redis_script_seconds": in_scripts,
        "redis_cpu_seconds": redis_cpu,
        "gateway_cpu_seconds": cpu,
        "load": load,
    }
    log(f"{row}")  # each row as soon as it is measured: a million-job run is long
    return row


def floor_row(url: str, r: redis.Redis, action: str, n: int) -> dict[str, Any]:
    """The minimum writes per job, pipelined, no checks: what no implementation can beat."""
    r.flushall(asynchronous=True)  # a million jobs' keys: freed in the background
    ids = seed_failed(r, url, n)
    cpu_before = redis_cpu_seconds(r)
    started = time.perf_counter()
    for start in range(0, n, 1000):
        with r.pipeline(transaction=False) as pipe:
            for job_id in ids[start : start + 1000]:
                pipe.zrem("rq:failed:default", job_id)
                if action == "retry":
                    pipe.hset(f"rq:job:{job_id}", "status", "queued")
                    pipe.rpush("rq:queue:default", job_id)
                else:  # what RQ's Job.delete removes: hash, results, dependents, dependencies, executions
                    pipe.delete(*(f"{prefix}{job_id}{suffix}" for prefix, suffix in keys.JOB_KEY_PARTS))
            pipe.execute()
    seconds = time.perf_counter() - started
    in_redis = redis_cpu_seconds(r) - cpu_before
    return {"action": action, "n": n, "us_per_job": seconds / n * 1e6, "redis_us_per_job": in_redis / n * 1e6}


def contract_row(url: str, r: redis.Redis, workdir: Path, n: int) -> dict[str, Any]:
    r.flushall(asynchronous=True)  # a million jobs' keys: freed in the background
    seed_failed(r, url, n)
    gateway = start_gateway(url, workdir)
    try:
        log(f"history writer caught up after {history_caught_up(r):.1f} s")
        r.config_resetstat()
        started = time.perf_counter()
        body = httpx.post(f"{gateway.base}/api/v1/jobs/failed/retry-all", timeout=600).json()
        seconds = time.perf_counter() - started
    finally:
        gateway.stop()
    assert body["requeued_count"] == n, {k: v for k, v in body.items() if not k.endswith("_jobs")}
    return {"n": n, "seconds": seconds, "redis_script_seconds": _script_seconds(r)}


def report(rows: list[dict], floors: dict[str, dict], contract: dict, contract_floor: dict) -> str:
    lines = [
        "| Operation | N | End to end | Jobs/s | Floor (Redis minimum writes, per job) "
        "| Redis CPU (in scripts) | Gateway CPU | RSS growth | PING max / p99 (over 20 ms) "
        "| Longest command in Redis (over 5 ms) "
        "| Worker on another queue | Load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        floor = floors[row["action"]]
        stranded = row["worker_stranded"]
        by_stop = f" ({stranded} left by its stop in RQ's intermediate queue)" if stranded else ""
        lines.append(
            f"| tracked {row['action']} | {row['n']:,} | {row['seconds']:.1f} s | {row['rate']:,.0f} | "
            f"{floor['us_per_job']:.1f} µs wall, {floor['redis_us_per_job']:.1f} µs of Redis CPU "
            f"(≈ {row['n'] * floor['us_per_job'] / 1e6:.1f} s for N) | {row['redis_cpu_seconds']:.1f} s "
            f"({row['redis_script_seconds']:.1f} s) | "
            f"{row['gateway_cpu_seconds']:.1f} s | {row['rss_growth_mb']:.1f} MB | "
            f"{row['ping_max_ms']:.1f} / {row['ping_p99_ms']:.1f} ms "
            f"({row['pings_over_20ms']} of {row['pings']:,}) | "
            f"{row['redis_longest_ms']:.1f} ms ({row['redis_over_5ms']}) | "
            f"{row['worker_finished_during']} finished during, {row['worker_lost']} lost"
            f"{by_stop} "
            f"| {row['load']:.1f} |"
        )
    floor = contract_floor
    lines += [
        "",
        "| Contract retry-all | N | Time | Redis in scripts | Floor (minimum writes) |",
        "|---|---|---|---|---|",
        f"| `POST /api/v1/jobs/failed/retry-all` | {contract['n']:,} | {contract['seconds']:.2f} s | "
        f"{contract['redis_script_seconds']:.2f} s | {contract['n'] * floor['us_per_job'] / 1e6:.2f} s |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--floor-n", type=int, default=None, help="default: --n")
    parser.add_argument("--contract-n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as (url, r):
        rows = [operation_row(url, r, Path(tmp), action, args.n) for action in ("retry", "delete")]
        floor_n = args.floor_n or args.n
        floors = {action: floor_row(url, r, action, floor_n) for action in ("retry", "delete")}
        contract_floor = floor_row(url, r, "retry", args.contract_n)
        contract = contract_row(url, r, Path(tmp), args.contract_n)
    print(report(rows, floors, contract, contract_floor))


if __name__ == "__main__":
    main()
