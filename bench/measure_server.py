"""Measurements of the running servers: stats throughput under wrk (gateway against the floor
app), stats p99 idle and while another process lists everything, and the gateway's peak RSS during
a bulk operation (a fresh gateway each time)."""

from __future__ import annotations

import multiprocessing
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import redis

from bench.contestants import http_json
from bench.infra import Server, log, proc_status, reset_peak_rss, start_gateway
from bench.snapshots import Snapshot, restore
from bench.timing import expect

T = TypeVar("T")


WRK_RE = re.compile(r"Requests/sec:\s+([\d.]+)")
LAT_RE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
NON2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
ERRORS_RE = re.compile(r"Socket errors:.*")


def run_wrk(url: str, seconds: int, connections: int = 20) -> dict:
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    argv = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = float(WRK_RE.search(out).group(1))
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    latency = {int(p): float(v) * scale[u] for p, v, u in LAT_RE.findall(out)}
    bad = NON2XX_RE.search(out)
    socket_errors = ERRORS_RE.search(out)
    return {
        "rps": rps,
        "p99_ms": latency.get(99),
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else "",
    }


def measure_stats_throughput(
    r: redis.Redis, gateway: Server, floor: Server, snapshots: dict[int, Snapshot], seconds: int, runs: int
) -> dict[int, dict[str, list[dict]]]:
    """wrk -t2 -c20 against both apps. Every round visits every N (restoring its snapshot), so
    drift of the machine over the run hits every N and both apps alike. After a restore, both apps
    get a 1 s warm-up before either is measured, and the order alternates by round: whatever Redis
    still does after a restore of 200k keys must not fall on whichever app happens to go first."""
    urls = {"gateway": gateway.base + "/api/v1/jobs/stats", "floor": floor.base + "/stats"}
    results: dict[int, dict[str, list[dict]]] = {n: {"gateway": [], "floor": []} for n in snapshots}
    for round_ in range(runs):
        for n, snapshot in snapshots.items():
            log(f"stats throughput: round {round_ + 1}/{runs}, N={n:,}")
            restore(r, snapshot)
            g, f = httpx.get(urls["gateway"]).json(), httpx.get(urls["floor"]).json()
            expect(all(g[k] == v for k, v in f.items()), f"gateway and floor stats differ: {g} vs {f}")
            expect(g["failed_count"] == n, f"stats sees {g['failed_count']} failed jobs, expected {n}")
            order = list(urls) if round_ % 2 == 0 else list(reversed(urls))
            for name in order:
                run_wrk(urls[name], 1)  # warm-up
            for name in order:
                res = run_wrk(urls[name], seconds)
                if res["non2xx"]:
                    raise RuntimeError(f"wrk against {name}: {res['non2xx']} non-2xx responses")
                results[n][name].append(res)
    return results


def _list_loop(url: str, stop, started, count) -> None:
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            response = client.get(url)
            response.raise_for_status()
            count.value += 1
            started.set()


def measure_p99(client: httpx.Client, gateway: Server, samples: int) -> dict:
    """Idle p99 of GET /stats over sequential requests, then the same while another process lists
    every failed job in a loop."""
    url = gateway.base + "/api/v1/jobs/stats"
    for _ in range(20):
        client.get(url)

    def sample() -> list[float]:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            times.append(time.perf_counter() - started)
        return times

    idle = sample()
    ctx = multiprocessing.get_context("spawn")
    stop, started, count = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    loader = ctx.Process(target=_list_loop, args=(gateway.base + "/api/v1/jobs/failed", stop, started, count))
    loader.start()
    try:
        if not started.wait(120):
            raise RuntimeError("list loop did not complete a request")
        window = time.perf_counter()
        loaded = sample()
        window = time.perf_counter() - window
    finally:
        stop.set()
        loader.join(180)
        if loader.is_alive():
            loader.terminate()
            loader.join()
    return {
        "idle": idle,
        "loaded": loaded,
        "lists": count.value,
        "window": window,
    }


def peak_rss(redis_url: str, workdir: Path, operation: Callable[[httpx.Client, str], T]) -> tuple[T, dict]:
    """A fresh gateway, warmed up (readyz, stats, a page of 100), VmHWM reset to VmRSS, then
    operation(client, base url), timed. Growth = VmHWM after - VmRSS before, in bytes."""
    gateway = start_gateway(redis_url, workdir)
    try:
        with httpx.Client(timeout=600) as client:
            client.get(gateway.base + "/api/v1/jobs/stats").raise_for_status()
            client.get(gateway.base + "/api/v1/jobs/failed", params={"limit": 100}).raise_for_status()
            reset_hwm = reset_peak_rss(gateway.pid)
            before = proc_status(gateway.pid)
            started = time.perf_counter()
            out = operation(client, gateway.base)
            elapsed = time.perf_counter() - started
            after = proc_status(gateway.pid)
    finally:
        gateway.stop()
    return out, {
        "baseline": before["VmRSS"],
        "hwm_before": before["VmHWM"],
        "peak": after["VmHWM"],
        "growth": after["VmHWM"] - before["VmRSS"],
        "seconds": elapsed,
        "reset_hwm": reset_hwm,
    }


def measure_rss(n: int, r: redis.Redis, redis_url: str, workdir: Path, snapshot: Snapshot) -> dict:
    """Peak RSS of retry-all and of clear over the whole registry, a fresh gateway each."""
    out = {}
    for op, method, path in (("retry", "POST", "/failed/retry-all"), ("clear", "DELETE", "/failed/clear")):

        def bulk(client: httpx.Client, base: str, method: str = method, path: str = path) -> httpx.Response:
            return http_json(client, method, base + "/api/v1/jobs" + path)

        restore(r, snapshot)
        response, out[op] = peak_rss(redis_url, workdir, bulk)
        body = response.json()
        done = body.get("requeued_count", body.get("deleted_count"))
        expect(done == n, f"RSS run {op}: {done} of {n}")
    return out
