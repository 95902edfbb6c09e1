"""The markdown report of `python -m bench.run`: the operations, stats throughput, memory and
latency tables, the run's header, the one-line-per-target summary, and the rewrite of the results
section of BENCHMARKS.md. Its output is pinned byte for byte by tests/test_bench_report.py."""

from __future__ import annotations

import statistics
from datetime import datetime
from pathlib import Path

from bench.environment import machine
from bench.measure_ops import OpResult
from bench.timing import Sample, p99


def fmt_s(seconds: float) -> str:
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:.3g} ms" if ms < 100 else f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_sample(sample: Sample | None) -> str:
    if sample is None:
        return "—"
    text = f"{fmt_s(sample.median)} ({fmt_s(min(sample.times))}-{fmt_s(max(sample.times))})"
    return f"≈ {text} ¹" if sample.extrapolated else text


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def verdict(ok: bool, measured: str) -> str:
    return f"yes ({measured})" if ok else f"**NO** ({measured})"


def mb(value: int) -> str:
    return f"{value / 2**20:.0f} MB"


TARGET_N = 10_000


def ops_table(n: int, ops: dict[str, OpResult]) -> list[str]:
    lines = [
        f"#### N = {n:,} failed jobs",
        "",
        "| Operation | Gateway (HTTP) | Floor (raw redis-py) | RQ per-job loop | Gateway / floor "
        "| Per-job / gateway | Target (N = 10k) | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    targets = {
        "retry": ("≤ 2.5x floor, per-job ≥ 30x gateway", 2.5),
        "clear": ("≤ 3x floor", 3.0),
        "page": ("≤ 2x floor", 2.0),
        "graphql": ("≤ 1.5x the REST page", 1.5),
        "list": ("≤ 3x floor", 3.0),
        "groups": ("≤ 2 s", 2.0),
    }
    for key, op in ops.items():
        ratio = op.gateway.median / op.floor.median if op.gateway and op.floor else None
        per_job = op.loop.median / op.gateway.median if op.loop and op.gateway else None
        target, limit = targets[key]
        met = "—"
        if n == TARGET_N:
            if key == "graphql":
                vs_rest = op.gateway.median / ops["page"].gateway.median
                met = verdict(vs_rest <= limit, f"{vs_rest:.2f}x REST")
            elif key == "groups":
                met = verdict(op.gateway.median <= limit, fmt_s(op.gateway.median))
            elif key == "retry":
                ok = ratio <= limit and per_job is not None and per_job >= 30
                met = verdict(ok, f"{ratio:.2f}x floor, per-job {fmt_ratio(per_job)}")
            else:
                met = verdict(ratio <= limit, f"{ratio:.2f}x floor")
        floor = fmt_sample(op.floor) if key != "graphql" else "(REST page floor)"
        lines.append(
            f"| {op.name} | {fmt_sample(op.gateway)} | {floor} | {fmt_sample(op.loop)} "
            f"| {fmt_ratio(ratio)} | {fmt_ratio(per_job)} | {target if n == TARGET_N else '—'} | {met} |"
        )
    notes = [op.loop.note for op in ops.values() if op.loop and op.loop.extrapolated]
    if notes:
        lines += ["", f"¹ RQ per-job loop not run at this size: {notes[0]} (linear)."]
    return lines


def stats_table(stats: dict[int, dict]) -> list[str]:
    first = min(stats)
    lines = [
        "| N | Gateway req/s | Floor app req/s | Gateway / floor | Gateway p99 (wrk) | Floor p99 (wrk) "
        f"| Gateway vs N={first:,} | (Floor vs N={first:,}) | Target | Met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    base_g = statistics.median(x["rps"] for x in stats[first]["gateway"])
    base_f = statistics.median(x["rps"] for x in stats[first]["floor"])
    for n, res in stats.items():
        g = [x["rps"] for x in res["gateway"]]
        f = [x["rps"] for x in res["floor"]]
        gm, fm = statistics.median(g), statistics.median(f)
        # Median of the per-pair ratios: each pair runs back to back on the same data.
        ratio = statistics.median(a / b for a, b in zip(g, f, strict=True))
        vs_base, floor_vs_base = gm / base_g, fm / base_f
        ok = ratio >= 0.70 and abs(vs_base - 1) <= 0.10
        measured = f"{ratio:.1%} of floor" + (f", {vs_base:.1%} of N={first:,}" if n != first else "")
        gp = statistics.median(x["p99_ms"] for x in res["gateway"])
        fp = statistics.median(x["p99_ms"] for x in res["floor"])
        lines.append(
            f"| {n:,} | {gm:,.0f} ({min(g):,.0f}-{max(g):,.0f}) | {fm:,.0f} ({min(f):,.0f}-{max(f):,.0f}) "
            f"| {ratio:.1%} | {gp:.1f} ms | {fp:.1f} ms | {vs_base:.1%} | ({floor_vs_base:.1%}) "
            f"| ≥ 70% of floor; within 10% of N={first:,} | {verdict(ok, measured)} |"
        )
    return lines


def metrics_section(args, metrics: dict | None) -> list[str]:
    """Issue 12's row: the metrics middleware's cost (bench/metrics_row.py); absent from older runs."""
    if not metrics:
        return []
    return [
        f"### Metrics middleware (wrk -t2 -c20 -d{args.wrk_seconds}s, median of {args.wrk_runs} runs)",
        "",
        "GET /stats on the same data: the gateway as shipped, which counts and times every request "
        "(gateway/request_metrics.py), the same app with that middleware removed "
        "(bench/unmetered_app.py), and the floor app. The order rotates by run; ratios are medians "
        "of the per-run ratios.",
        "",
        *metrics_table(metrics["rps"], metrics["n"]),
        "",
    ]


def metrics_table(rps: dict[str, list[float]], n: int) -> list[str]:
    on_floor = statistics.median(a / b for a, b in zip(rps["metered"], rps["floor"], strict=True))
    on_off = statistics.median(a / b for a, b in zip(rps["metered"], rps["unmetered"], strict=True))

    def cell(name: str) -> str:
        values = rps[name]
        return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"

    return [
        "| N | Gateway, metrics on (as shipped) req/s | Gateway, middleware removed req/s | Floor app req/s "
        "| Metrics on / floor | Metrics on / removed | Target | Met |",
        "|---|---|---|---|---|---|---|---|",
        f"| {n:,} | {cell('metered')} | {cell('unmetered')} | {cell('floor')} | {on_floor:.1%} "
        f"| {on_off:.1%} | ≥ 70% of floor | {verdict(on_floor >= 0.70, f'{on_floor:.1%} of floor')} |",
    ]


def rss_table(rss: dict[int, dict]) -> list[str]:
    lines = [
        "| N | Operation | Time | Baseline RSS | Peak RSS (VmHWM) | Growth | Target (N = 100k) | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, ops in rss.items():
        for op, res in ops.items():
            growth = res["growth"]
            met = verdict(growth <= 100 * 2**20, mb(growth)) if n >= 100_000 else "—"
            target = "growth ≤ 100 MB" if n >= 100_000 else "—"
            name = "retry-all" if op == "retry" else "clear"
            lines.append(
                f"| {n:,} | {name} | {fmt_s(res['seconds'])} | {mb(res['baseline'])} | {mb(res['peak'])} "
                f"| {mb(growth)} | {target} | {met} |"
            )
    return lines


def p99_table(p99s: dict[int, dict]) -> list[str]:
    lines = [
        "| N | Idle p99 of GET /stats | p99 while listing all in a loop | Ratio | Lists completed (window) "
        "| Target (N = 10k) | Met |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, res in p99s.items():
        idle, loaded = p99(res["idle"]), p99(res["loaded"])
        ratio = loaded / idle
        met = verdict(ratio <= 5, f"{ratio:.1f}x") if n == TARGET_N else "—"
        lines.append(
            f"| {n:,} | {fmt_s(idle)} | {fmt_s(loaded)} | {ratio:.1f}x "
            f"| {res['lists']} ({res['window']:.1f} s) "
            f"| {'≤ 5x idle' if n == TARGET_N else '—'} | {met} |"
        )
    return lines


def render(args, seeding: dict, results: dict, started: datetime, wall: float) -> str:
    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC, {wall / 60:.1f} min wall clock.",
        "",
        *machine(),
        f"- Command: `{args.command}`, gateway at git commit {args.revision}",
        f'- Data: {seeding["seeded"]:,} `parse_report("bad-i")` jobs enqueued in pipelines and failed by one '
        f"`rq worker --burst --worker-class rq.worker.SimpleWorker` in {seeding['worker_seconds']:.0f} s; "
        + _derivation(seeding, results["sizes"]),
        f"- Timings: median (min-max) of {args.repeat} runs per cell ({4 * args.repeat} for the page of 100; "
        f"{min(args.repeat, 3)} at N ≥ 100k, 1 for listing all 100k; "
        f"{min(args.loop_repeat, args.repeat)} for RQ's per-job retry, "
        "clear and list-all loops), each mutating run from the restored snapshot. "
        "Gateway = wall time of one HTTP request with a persistent httpx client, body fully read.",
        "",
        "### Operations",
        "",
    ]
    for n, ops in results["ops"].items():
        lines += [
            *ops_table(n, ops),
            "",
            f"HTTP round trip of GET /healthz (no Redis), part of every gateway time: "
            f"{fmt_sample(results['http'][n])}.",
            "",
        ]
    if not results["stats"]:  # --only: the operations table alone
        return "\n".join(lines)
    lines += [
        f"### Stats throughput (wrk -t2 -c20 -d{args.wrk_seconds}s, median of {args.wrk_runs} runs)",
        "",
        "Each round visits every N (its snapshot restored) and runs wrk against the gateway, then the "
        "floor app; Gateway / floor is the median of the per-round ratios. The floor's own drift across N "
        "is shown in brackets: it does the same O(1) work at every N, so it measures the machine.",
        "",
        *stats_table(results["stats"]),
        "",
        *metrics_section(args, results.get("metrics")),
        "### Gateway memory during bulk operations",
        "",
        *rss_table(results["rss"]),
        "",
        f"### Stats latency under load ({args.p99_samples} sequential GET /stats each)",
        "",
        *p99_table(results["p99"]),
        "",
    ]
    return "\n".join(lines)


def _derivation(seeding: dict, sizes: list[int]) -> str:
    seeded, parts = seeding["seeded"], []
    for n in sizes:
        if n < seeded:
            parts.append(f"N={n:,} keeps the first {n:,} of them")
        elif n > seeded:
            parts.append(
                f"N={n:,} clones them (job hash + results stream under new ids, same registry score) "
                f"x{n // seeded}"
            )
    return ("; ".join(parts) + ".") if parts else "used as is."


def summary(results: dict) -> list[str]:
    """One line per target: met or not, for the final message."""
    lines = []
    ops = results["ops"].get(TARGET_N)
    if ops:
        for line in ops_table(TARGET_N, ops)[4:]:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 8:
                lines.append(f"{cells[0]}: {cells[7]}")
    if not results["stats"]:
        return lines
    for line in stats_table(results["stats"])[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        lines.append(f"stats N={cells[0]}: {cells[-1]}")
    if results.get("metrics"):
        cells = metrics_table(results["metrics"]["rps"], results["metrics"]["n"])[2].strip("|").split("|")
        lines.append(f"stats with metrics N={cells[0].strip()}: {cells[-1].strip()}")
    for line in rss_table(results["rss"])[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[-1] != "—":
            lines.append(f"RSS N={cells[0]} {cells[1]}: {cells[-1]}")
    for line in p99_table(results["p99"])[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[-1] != "—":
            lines.append(f"stats p99 under load N={cells[0]}: {cells[-1]}")
    return lines


BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"


def write_out(path: Path, body: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the text between the begin and end markers of path with body; a page without the
    markers gets a "Latest results" section at its end (a missing page, a new one)."""
    section = f"{begin}\n{body}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Latest results\n\n" + section + "\n"
    path.write_text(text)
