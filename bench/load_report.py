"""The load test's markdown report (the load:results section of RELIABILITY.md) and its
verdicts: 0 errors, every job in exactly one place at the end, gateway RSS growth < 30 MB."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from bench.environment import gateway_revision, machine
from bench.load_traffic import MIX

RSS_LIMIT = 30 * 1024 * 1024


def verdicts(result: dict) -> dict[str, bool]:
    counts, rss = result["counts"], result["rss"]
    return {
        "0 errors": sum(result["errors"].values()) == 0,
        "every job in exactly one place": sum(counts.get(k, 0) for k in ("queued", "failed", "finished"))
        == result["jobs"],
        "RSS growth < 30 MB": rss["peak"] - rss["baseline"] < RSS_LIMIT,
    }


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f} ms"


def render(result: dict, command: str) -> str:
    mb, cores = 1024 * 1024, os.cpu_count() or 1
    total = sum(len(v) for v in result["latency"].values())
    lines = [
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: `{command}`, gateway at git commit "
        f"{gateway_revision()}.",
        "",
        *machine(),
        f"- {result['clients']} concurrent clients (asyncio + httpx, one process, same machine) for "
        f"{result['seconds']:.0f} s against `rq-gateway serve` on 127.0.0.1; one real "
        f"`rq worker --worker-class rq.worker.SimpleWorker` ran the requeued jobs meanwhile.",
        f"- {result['jobs']:,} failed jobs at the start: 150 `flaky_charge` + 150 `parse_report` failed by a "
        "real worker, cloned (job hash + results stream under new ids) up to that number.",
        "",
        "| Kind | Requests | Errors | p50 | p99 |",
        "|---|---|---|---|---|",
    ]
    for kind in [*MIX, "retry-all"]:
        values = result["latency"].get(kind, [])
        lines.append(
            f"| {kind} | {len(values):,} | {result['errors'].get(kind, 0)} | {_ms(values, 0.5)} | "
            f"{_ms(values, 0.99)} |"
        )
    counts, rss = result["counts"], result["rss"]
    lines += [
        f"| **all** | **{total:,}** ({total / result['wall']:.0f}/s) | **{sum(result['errors'].values())}** "
        "| | |",
        "",
        f"Jobs at the end: {counts.get('queued', 0):,} queued + {counts.get('failed', 0):,} failed + "
        f"{counts.get('finished', 0):,} finished = {sum(counts.values()):,} of {result['jobs']:,}"
        + (f"; **{counts['NOT IN EXACTLY ONE PLACE']} not in exactly one place**" if len(counts) > 3 else "")
        + ".",
        "",
        f"Gateway RSS (VmRSS every 0.5 s): {rss['baseline'] / mb:.1f} MB after warm-up, peak "
        f"{rss['peak'] / mb:.1f} MB, {rss['final'] / mb:.1f} MB at the end: growth "
        f"{(rss['peak'] - rss['baseline']) / mb:.1f} MB.",
        "",
        f"CPU during the run ({cores} cores = {cores * result['wall']:.0f} core-seconds): gateway "
        f"{result['cpu']['gateway']:.0f} s, worker {result['cpu']['worker']:.0f} s, the rest went to "
        f"the load generator, Redis and other work on the machine (1-minute load average "
        f"{result['cpu']['load average before']:.1f} just before the run).",
        "",
        "| Target | Met |",
        "|---|---|",
        *(f"| {name} | {'yes' if ok else '**no**'} |" for name, ok in verdicts(result).items()),
    ]
    if result["error_samples"]:
        lines += ["", "First errors:", "", *(f"- `{sample}`" for sample in result["error_samples"])]
    return "\n".join(lines)


BEGIN, END = "<!-- load:results:begin -->", "<!-- load:results:end -->"
