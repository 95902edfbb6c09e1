"""rq-gateway load test: mixed REST and GraphQL traffic from many concurrent clients against the
CLI-started gateway, while a real `rq worker` runs the jobs it requeues.

    python -m bench.load                               # 60 s, 50 clients, 10,000 failed jobs
    python -m bench.load --out RELIABILITY.md          # ... and rewrite the results there

Loopback only: its own redis-server and gateway on free 127.0.0.1 ports. Half the seeded jobs are
`flaky_charge` (a retry succeeds), half `parse_report` (a retry fails again); a real worker fails
300, clones fill up to --jobs. Exit status 0 only when every target holds: 0 errors, every job
in exactly one place at the end (queued + failed + finished = --jobs), gateway RSS growth < 30 MB.

This module runs the servers and the worker and accounts for every job; the traffic is
bench/load_traffic.py, the report bench/load_report.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import redis
from rq import Worker

from bench.infra import RQ_BIN, cpu_seconds, proc_status, redis_server, start_gateway
from bench.load_report import BEGIN, END, render, verdicts
from bench.load_traffic import API, GRAPHQL_PAGE, drive
from bench.report import write_out
from bench.seed import QUEUE, clone_failed, fail_with_worker
from gateway.demo.jobs import flaky_charge, parse_report


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


def seed(r: redis.Redis, url: str, jobs: int) -> list[str]:
    half = 150
    fail_with_worker(r, url, half, QUEUE, flaky_charge, lambda i: (i,))
    fail_with_worker(r, url, half, QUEUE, parse_report, lambda i: (f"bad-{i}",))
    return clone_failed(r, jobs, QUEUE)


def account(r: redis.Redis, ids: list[str]) -> dict:
    """Where every seeded job ended up; each must be in exactly one place."""
    where: dict[str, list[str]] = {job_id: [] for job_id in ids}
    for member in r.lrange(f"rq:queue:{QUEUE}", 0, -1):
        if member.decode() in where:
            where[member.decode()].append("queued")
    for registry in ("failed", "finished", "started"):
        for member in r.zrange(f"rq:{registry}:{QUEUE}", 0, -1):
            if member.decode() in where:
                where[member.decode()].append(registry)
    counts = Counter(spots[0] if len(spots) == 1 else "NOT IN EXACTLY ONE PLACE" for spots in where.values())
    misplaced = {job_id: spots for job_id, spots in where.items() if len(spots) != 1}
    if misplaced:
        log(f"not in exactly one place: {list(misplaced.items())[:10]}")
        for job_id in list(misplaced)[:3]:
            log(f"{job_id}: {r.hgetall(f'rq:job:{job_id}')!r:.600}")
    return dict(counts)


def stop_worker(worker: subprocess.Popen, url: str, r: redis.Redis) -> None:
    """Stop the worker without losing the job it may just have popped.

    A stock RQ 3 worker is IDLE from the moment its BLPOP returns a job until it starts running
    it; SIGTERM in that window raises StopRequested and the popped job is in no list or registry
    any more (status still "queued"). Under load the window is hit. So: `rq suspend` first, wait
    until the worker is suspended (or idle on an empty queue, where no job can arrive now the
    traffic has stopped), then SIGTERM (RQ's warm shutdown)."""
    subprocess.run([str(RQ_BIN), "suspend", "--url", url], check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [w.get_state() for w in Worker.all(connection=r)]
        if states == ["suspended"] or (states == ["idle"] and r.llen(f"rq:queue:{QUEUE}") == 0):
            break
        time.sleep(0.2)
    else:
        log("worker did not reach a safe state in 120 s; stopping it anyway")
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)
    subprocess.run([str(RQ_BIN), "resume", "--url", url], check=True, capture_output=True, timeout=60)


def run(seconds: float = 60, clients: int = 50, jobs: int = 10_000, seed_value: int = 1) -> dict:
    with tempfile.TemporaryDirectory(prefix="rq-gateway-load-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir) as (url, r):
            log(f"seeding {jobs:,} failed jobs ...")
            ids = seed(r, url, jobs)
            gateway = start_gateway(url, workdir)
            worker_log = (workdir / "worker.log").open("wb")
            worker = subprocess.Popen(
                [str(RQ_BIN), "worker", "--worker-class", "rq.worker.SimpleWorker", "--url", url, QUEUE],
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
            try:
                with httpx.Client(base_url=gateway.base, timeout=30) as warm:
                    for _ in range(20):
                        warm.get(f"{API}/failed", params={"limit": 100}).raise_for_status()
                        warm.post("/graphql", json={"query": GRAPHQL_PAGE}).raise_for_status()
                baseline = proc_status(gateway.pid)["VmRSS"]
                cpu = {"gateway": cpu_seconds(gateway.pid), "worker": cpu_seconds(worker.pid)}
                load_before = os.getloadavg()[0]
                log(f"{clients} clients for {seconds:.0f} s against {gateway.base} (worker pid {worker.pid})")
                wall = time.monotonic()
                recorder, samples = asyncio.run(
                    drive(gateway.base, gateway.pid, ids, seconds, clients, seed_value)
                )
                wall = time.monotonic() - wall
                final = proc_status(gateway.pid)["VmRSS"]
                cpu = {
                    "gateway": cpu_seconds(gateway.pid) - cpu["gateway"],
                    "worker": cpu_seconds(worker.pid) - cpu["worker"],
                    "load average before": load_before,
                }
            finally:
                stop_worker(worker, url, r)
                worker_log.close()
                gateway.stop()
            counts = account(r, ids)
    return {
        "seconds": seconds,
        "wall": wall,
        "clients": clients,
        "jobs": jobs,
        "latency": dict(recorder.latency),
        "errors": dict(recorder.errors),
        "error_samples": recorder.error_samples,
        "counts": counts,
        "cpu": cpu,
        "rss": {"baseline": baseline, "peak": max([*samples, final]), "final": final},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1, help="random seed of the traffic mix")
    parser.add_argument("--out", type=Path, help="rewrite the load:results section of this file")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.clients, args.jobs, args.seed)
    command = "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:])
    body = render(result, command.strip())
    print(body)
    if args.out:
        write_out(args.out, body, BEGIN, END)
    return 0 if all(verdicts(result).values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
