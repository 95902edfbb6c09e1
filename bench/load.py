"""rq-gateway load test: mixed REST and GraphQL traffic from many concurrent clients against the
CLI-started gateway, while a real `rq worker` runs the jobs it requeues.

    python -m bench.load                               # 60 s, 50 clients, 10,000 failed jobs
    python -m bench.load --out RELIABILITY.md          # ... and rewrite the results there

Loopback only: its own redis-server and gateway on free 127.0.0.1 ports. Half the seeded jobs are
`flaky_charge` (a retry succeeds), half `parse_report` (a retry fails again); a real worker fails
300, clones fill up to --jobs. Exit status 0 only when every target holds: 0 errors, every job
in exactly one place at the end (queued + failed + finished = --jobs), gateway RSS growth < 30 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import httpx
import redis
from rq import Worker

from bench.environment import gateway_revision, machine
from bench.infra import RQ_BIN, proc_status, redis_server, start_gateway
from bench.report import write_out
from bench.seed import QUEUE, clone_failed, fail_with_worker
from gateway.demo.jobs import flaky_charge, parse_report

API = "/api/v1/jobs"
RSS_LIMIT = 30 * 1024 * 1024
GRAPHQL_PAGE = (
    "query($after: String) { failedJobs(first: 50, after: $after) { totalCount nodes { id status } } }"
)
RETRY_ALL_EVERY = 15.0  # seconds between the occasional retry-alls (shorter runs: two of them)
# kind: (weight, accepted statuses). A single retry is 404 when the job is not failed right now.
MIX = {
    "list page": (25, {200}),
    "status": (20, {200}),
    "stats": (15, {200}),
    "graphql failedJobs": (20, {200}),
    "retry one": (20, {200, 404}),
}


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(r: redis.Redis, url: str, jobs: int) -> list[str]:
    half = 150
    fail_with_worker(r, url, half, QUEUE, flaky_charge, lambda i: (i,))
    fail_with_worker(r, url, half, QUEUE, parse_report, lambda i: (f"bad-{i}",))
    return clone_failed(r, jobs, QUEUE)


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what}")


async def _request(
    client: httpx.AsyncClient, kind: str, ids: list[str], rng: random.Random
) -> httpx.Response:
    if kind == "list page":
        return await client.get(f"{API}/failed", params={"limit": 100, "offset": rng.randrange(0, len(ids))})
    if kind == "status":
        return await client.get(f"{API}/status/{rng.choice(ids)}")
    if kind == "stats":
        return await client.get(f"{API}/stats")
    if kind == "graphql failedJobs":
        return await client.post("/graphql", json={"query": GRAPHQL_PAGE})
    if kind == "retry one":
        return await client.post(f"{API}/failed/{rng.choice(ids)}/retry")
    return await client.post(f"{API}/failed/retry-all")


def _check(kind: str, response: httpx.Response) -> str | None:
    """None when the answer is a correct one, else what is wrong with it."""
    accepted = {200} if kind == "retry-all" else MIX[kind][1]
    if response.status_code not in accepted:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    if kind == "graphql failedJobs" and body.get("errors"):
        return f"GraphQL errors: {body['errors']}"
    if kind == "retry-all" and body["error_count"]:
        return f"retry-all errors: {body['errors'][:3]}"
    return None


async def client_loop(
    index: int, base: str, ids: list[str], deadline: float, recorder: Recorder, seed_value: int
) -> None:
    rng = random.Random(seed_value + index)
    kinds, weights = list(MIX), [w for w, _ in MIX.values()]
    every = min(RETRY_ALL_EVERY, (deadline - time.monotonic()) / 2)
    next_retry_all = time.monotonic() + every / 2
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if index == 0 and time.monotonic() >= next_retry_all:
                kind, next_retry_all = "retry-all", time.monotonic() + every
            started = time.perf_counter()
            try:
                response = await _request(client, kind, ids, rng)
                problem = _check(kind, response)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            recorder.latency[kind].append(time.perf_counter() - started)
            if problem:
                recorder.error(kind, problem)


async def rss_sampler(pid: int, deadline: float, samples: list[int]) -> None:
    while time.monotonic() < deadline:
        samples.append(proc_status(pid)["VmRSS"])
        await asyncio.sleep(0.5)


async def drive(base: str, pid: int, ids: list[str], seconds: float, clients: int, seed_value: int):
    recorder, samples = Recorder(), []
    deadline = time.monotonic() + seconds
    tasks = [client_loop(i, base, ids, deadline, recorder, seed_value) for i in range(clients)]
    await asyncio.gather(rss_sampler(pid, deadline, samples), *tasks)
    return recorder, samples


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
