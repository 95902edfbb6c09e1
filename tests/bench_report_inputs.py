"""Fixed benchmark results (three sizes, every table, one extrapolated loop) for the report test:
bench/report.py must render them byte for byte as tests/data/bench_report.md, the output of the
report code before bench/ became a package. Sample and OpResult are passed in so that the same
inputs can be built for any version of the harness."""

from __future__ import annotations

from argparse import Namespace
from datetime import datetime, timezone

MACHINE = ["- Machine: fixed for the test", "- Python fixed, redis-server fixed"]
STARTED = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
WALL = 421.0


def _series(base: float, step: float, count: int = 5) -> list[float]:
    return [base + step * i for i in range(count)]


def _ops(n: int, sample, op_result, loop_from: dict | None = None) -> dict:
    scale = n / 1000
    loops = {
        key: sample(_series(t * scale, t * scale / 50, 3))
        for key, t in (("retry", 0.9), ("clear", 0.7), ("list", 0.4))
    }
    if loop_from:
        loops = {
            key: s.scaled(n / 10_000, f"extrapolated x{n / 10_000:g} from N=10,000")
            for key, s in loop_from.items()
        }
    page_floor = sample(_series(0.004, 0.0001, 20))
    return {
        "retry": op_result(
            "retry-all (REST)",
            gateway=sample(_series(0.021 * scale, 0.001)),
            floor=sample(_series(0.011 * scale, 0.0005)),
            loop=loops["retry"],
        ),
        "clear": op_result(
            "clear (REST)",
            gateway=sample(_series(0.015 * scale, 0.001)),
            floor=sample(_series(0.004 * scale, 0.0002)),
            loop=loops["clear"],
        ),
        "page": op_result(
            "page of 100 with exc_info (REST)",
            gateway=sample(_series(0.0061, 0.0002, 20)),
            floor=page_floor,
            loop=sample(_series(0.041, 0.001, 20)),
        ),
        "graphql": op_result(
            "same page through GraphQL", gateway=sample(_series(0.0072, 0.0002, 20)), floor=page_floor
        ),
        "list": op_result(
            f"list all {n:,} with exc_info (REST)",
            gateway=sample(_series(0.05 * scale, 0.002)),
            floor=sample(_series(0.03 * scale, 0.001)),
            loop=loops["list"],
        ),
        "groups": op_result(
            f"failure groups over {n:,} failed jobs (REST)", gateway=sample(_series(0.09 * scale, 0.01))
        ),
    }


def full_run(sample, op_result) -> tuple[Namespace, dict, dict]:
    """args, seeding and results of a `--with-100k` run: 1k and 10k measured, 100k extrapolated."""
    args = Namespace(
        command="python -m bench.run --with-100k --out BENCHMARKS.md",
        revision="`abc1234`",
        repeat=5,
        loop_repeat=3,
        wrk_seconds=5,
        wrk_runs=3,
        p99_samples=300,
    )
    seeding = {"seeded": 10_000, "worker_seconds": 91.4}
    sizes = [1000, 10_000, 100_000]
    ops = {1000: _ops(1000, sample, op_result), 10_000: _ops(10_000, sample, op_result)}
    ops[100_000] = _ops(
        100_000, sample, op_result, {k: ops[10_000][k].loop for k in ("retry", "clear", "list")}
    )
    results = {
        "sizes": sizes,
        "ops": ops,
        "http": {n: sample(_series(0.0008, 0.00001, 20)) for n in sizes},
        "stats": {
            n: {
                "gateway": [{"rps": 2100.0 - i * 10 - n / 1e4, "p99_ms": 14.2 + i} for i in range(3)],
                "floor": [{"rps": 2600.0 + i * 5, "p99_ms": 11.1 + i} for i in range(3)],
            }
            for n in sizes
        },
        "rss": {
            n: {
                op: {
                    "baseline": 60 * 2**20,
                    "peak": (60 + n // 2000) * 2**20,
                    "growth": (n // 2000) * 2**20,
                    "seconds": n / 40_000,
                }
                for op in ("retry", "clear")
            }
            for n in sizes
        },
        "p99": {
            n: {
                "idle": _series(0.001, 0.00001, 300),
                "loaded": _series(0.002, 0.00003, 300),
                "lists": 7,
                "window": 1.25,
            }
            for n in sizes[:2]
        },
    }
    return args, seeding, results


def groups_only_run(sample, op_result) -> tuple[Namespace, dict, dict]:
    """args, seeding and results of `--sizes 10000 --only groups`: the operations table alone."""
    args, seeding, _ = full_run(sample, op_result)
    args.command = "python -m bench.run --sizes 10000 --only groups"
    results = {
        "sizes": [10_000],
        "ops": {10_000: {"groups": _ops(10_000, sample, op_result)["groups"]}},
        "http": {10_000: sample(_series(0.0008, 0.00001, 20))},
        "stats": {},
        "rss": {},
        "p99": {},
    }
    return args, seeding, results
