"""Gateway memory while it lists a whole failed registry: `GET /api/v1/jobs/failed` without limit.

    python -m bench.list_memory                  # N = 100,000, 3 runs, a fresh gateway each
    python -m bench.list_memory --n 10000 --runs 1

Starts its own redis-server (loopback, no persistence), fails 300 jobs with a real
`rq worker --burst` and clones them up to N (bench/seed.py), then per run: starts the gateway
through its CLI (`rq-gateway serve`, one worker), warms it up (stats, a page of 100), resets
VmHWM through /proc/PID/clear_refs, reads VmRSS (the baseline), lists every failed job, reading
the body as it arrives, checks that it is a JSON array of N jobs, and reads VmHWM. Growth =
VmHWM after - VmRSS before. Prints one markdown row per run and the median.

To measure another checkout of the gateway (e.g. the code before a change), put its directory
first on PYTHONPATH: the CLI then imports `gateway` from there."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

from bench.infra import log, redis_server
from bench.measure_server import peak_rss
from bench.seed import seed_failed


def measure(redis_url: str, workdir: Path, n: int) -> dict[str, float]:
    def list_all(client: httpx.Client, base: str) -> list[bytes]:
        with client.stream("GET", base + "/api/v1/jobs/failed") as response:
            response.raise_for_status()
            return list(response.iter_bytes())

    parts, res = peak_rss(redis_url, workdir, list_all)
    if not res["reset_hwm"]:
        raise RuntimeError("cannot reset VmHWM through /proc/PID/clear_refs: the peak would be stale")
    listed = json.loads(b"".join(parts))
    if len(listed) != n:
        raise RuntimeError(f"listed {len(listed)} of {n} jobs")
    return {**res, "body": sum(len(p) for p in parts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="failed jobs (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs, a fresh gateway each (default 3)")
    args = parser.parse_args(argv)
    mb = 2**20
    with tempfile.TemporaryDirectory(prefix="rq-gateway-list-memory-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir) as (redis_url, r):
            log(f"seeding {args.n:,} failed jobs")
            seed_failed(r, redis_url, args.n)
            print("| Run | Time | Body | Baseline RSS | Peak RSS (VmHWM) | Growth |")
            print("|---|---|---|---|---|---|")
            growths = []
            for run in range(1, args.runs + 1):
                res = measure(redis_url, workdir, args.n)
                growths.append(res["growth"])
                sizes = [f"{res[k] / mb:.0f} MB" for k in ("body", "baseline", "peak")]
                cells = [str(run), f"{res['seconds']:.2f} s", *sizes, f"{res['growth'] / mb:.1f} MB"]
                print("| " + " | ".join(cells) + " |", flush=True)
            print(f"\nmedian growth: {statistics.median(growths) / mb:.1f} MB over {args.runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
