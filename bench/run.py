"""rq-gateway benchmark: the gateway over HTTP against RQ's own per-job API and a raw redis-py floor.

    python -m bench.run                      # N = 1k and 10k, 5 repetitions, 5 s wrk runs
    python -m bench.run --with-100k --out BENCHMARKS.md

It starts its own redis-server on a free loopback port, seeds failed jobs once with one real
`rq worker --burst` (SimpleWorker), snapshots every key with DUMP + PTTL, and restores that
snapshot (FLUSHDB + pipelined RESTORE, not timed) before every run that changes data. Progress
goes to stderr, the markdown tables to stdout; --out rewrites the results section of a file.
See bench/README.md for what each column measures and exactly what the floor includes.

This module is the command line only; the harness is the rest of the package: infra (processes,
ports, redis-server), seed and snapshots (the data), contestants (gateway, RQ's per-job loop, the
floor), measure_ops and measure_server (the measurements), report (the markdown).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from bench.contestants import http_json
from bench.environment import gateway_revision
from bench.infra import log, redis_server, start_floor_app, start_gateway
from bench.measure_ops import measure_groups, measure_ops
from bench.measure_server import measure_p99, measure_rss, measure_stats_throughput
from bench.metrics_row import measure_metrics_row, start_unmetered_gateway
from bench.report import TARGET_N, render, summary, write_out
from bench.seed import QUEUE
from bench.snapshots import build_snapshots, restore
from bench.timing import Sample, timed

WORKER_SEED_CAP = 10_000  # more than this is cloned from the worker-seeded jobs (see --worker-seed)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N (default 1000,10000)")
    parser.add_argument("--with-100k", action="store_true", help="add N=100000")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per cell (default 5)")
    parser.add_argument(
        "--loop-repeat",
        type=int,
        default=3,
        help="timed runs of RQ's per-job loops (default 3; they are slow)",
    )
    parser.add_argument("--wrk-seconds", type=int, default=5, help="duration of one wrk run (default 5)")
    parser.add_argument("--p99-samples", type=int, default=300, help="GET /stats per p99 (default 300)")
    parser.add_argument("--wrk-runs", type=int, default=3, help="wrk runs per app and N (default 3)")
    parser.add_argument(
        "--worker-seed",
        type=int,
        default=WORKER_SEED_CAP,
        help="fail at most this many jobs with the real worker; larger N are cloned "
        f"(default {WORKER_SEED_CAP})",
    )
    parser.add_argument("--out", type=Path, help="rewrite the results section of this markdown file")
    parser.add_argument(
        "--only",
        choices=["groups", "stats"],
        help="groups: time only that row; stats: only the stats throughput section",
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.with_100k:
        sizes = sorted({*sizes, 100_000})
    if not sizes or min(sizes) < 100 or args.repeat < 1 or not 1 <= args.wrk_seconds <= 60:
        parser.error("sizes must be ≥ 100, --repeat ≥ 1, 1 ≤ --wrk-seconds ≤ 60")
    args.sizes_list = sizes
    args.command = " ".join(["python -m bench.run", *(sys.argv[1:] if argv is None else argv)])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.revision = gateway_revision()  # at the start: gateways are (re)started from this code
    started_at, wall = datetime.now(timezone.utc), time.perf_counter()
    sizes = args.sizes_list
    results: dict[str, Any] = {"sizes": sizes, "ops": {}, "http": {}, "stats": {}, "rss": {}, "p99": {}}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rq-gateway-bench-")))
        redis_url, r = stack.enter_context(redis_server(workdir))
        seeding = build_snapshots(r, redis_url, sizes, args.worker_seed)
        snapshots = seeding.pop("snapshots")

        gateway = start_gateway(redis_url, workdir)
        stack.callback(gateway.stop)
        floor = start_floor_app(redis_url, workdir, QUEUE)
        stack.callback(floor.stop)
        client = stack.enter_context(httpx.Client(timeout=600))
        log(f"gateway pid {gateway.pid} at {gateway.base}; floor app pid {floor.pid} at {floor.base}")

        measured_loops: dict[str, tuple[int, Sample]] = {}
        for n in sizes if args.only == "groups" else ():
            restore(r, snapshots[n])
            results["http"][n] = timed(
                4 * args.repeat, lambda: http_json(client, "GET", gateway.base + "/healthz"), lambda _: None
            )
            results["ops"][n] = {"groups": measure_groups(n, client, gateway, args.repeat)}
        for n in sizes if not args.only else ():
            big = n >= 100_000
            reps = min(args.repeat, 3) if big else args.repeat
            loop_reps = min(args.loop_repeat, reps)
            results["http"][n] = timed(
                4 * reps, lambda: http_json(client, "GET", gateway.base + "/healthz"), lambda _: None
            )
            ops = measure_ops(
                n, r, client, gateway, snapshots[n], reps, loop_reps, measured_loops if big else None
            )
            results["ops"][n] = ops
            if not big:
                measured_loops = {k: (n, op.loop) for k, op in ops.items() if op.loop}

            if n <= TARGET_N:
                log(f"N={n:,}: stats p99 idle and while listing all")
                restore(r, snapshots[n])
                results["p99"][n] = measure_p99(client, gateway, args.p99_samples)

            log(f"N={n:,}: peak RSS of retry-all and clear (fresh gateway each)")
            results["rss"][n] = measure_rss(n, r, redis_url, workdir, snapshots[n])

        if args.only in (None, "stats"):
            results["stats"] = measure_stats_throughput(
                r, gateway, floor, snapshots, args.wrk_seconds, args.wrk_runs
            )
            unmetered = start_unmetered_gateway(redis_url, workdir)
            stack.callback(unmetered.stop)
            servers = {"metered": gateway, "unmetered": unmetered, "floor": floor}
            n = min(sizes)
            rps = measure_metrics_row(r, servers, snapshots[n], args.wrk_seconds, args.wrk_runs)
            results["metrics"] = {"n": n, "rps": rps}

    body = render(args, seeding, results, started_at, time.perf_counter() - wall)
    print(body)
    log("targets:\n  " + "\n  ".join(summary(results)))
    if args.out:
        write_out(args.out, body)
        log(f"wrote results to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
