"""The metrics middleware's row: GET /stats throughput of the gateway as shipped (metrics
middleware on), of the same gateway with the middleware removed (bench/unmetered_app.py), and of
the bare FastAPI floor (bench/floor_app.py), on the smallest N's data. The table and its target
(70% of the floor, as the stats table's) are in bench/report.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import redis

from bench.infra import Server, free_port, log, start_server
from bench.measure_server import run_wrk
from bench.snapshots import Snapshot, restore


def start_unmetered_gateway(redis_url: str, workdir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.unmetered_app:app", "--factory", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "REDIS_URL": redis_url, "RQ_GATEWAY_LOG_LEVEL": "warning"}
    return start_server("gateway-unmetered", argv, port, "/readyz", workdir, env=env)


def measure_metrics_row(
    r: redis.Redis, servers: dict[str, Server], snapshot: Snapshot, seconds: int, runs: int
) -> dict[str, list[float]]:
    """req/s per server and run; the order rotates by run, after a 1 s warm-up of each."""
    restore(r, snapshot)
    urls = {
        "metered": servers["metered"].base + "/api/v1/jobs/stats",
        "unmetered": servers["unmetered"].base + "/api/v1/jobs/stats",
        "floor": servers["floor"].base + "/stats",
    }
    rps: dict[str, list[float]] = {name: [] for name in urls}
    names = list(urls)
    for run in range(runs):
        log(f"metrics middleware row: run {run + 1}/{runs}")
        order = names[run % 3 :] + names[: run % 3]
        for name in order:
            run_wrk(urls[name], 1)
        for name in order:
            result = run_wrk(urls[name], seconds)
            if result["non2xx"]:
                raise RuntimeError(f"wrk against {name}: {result['non2xx']} non-2xx responses")
            rps[name].append(result["rps"])
    return rps
