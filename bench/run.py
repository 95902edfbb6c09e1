"""rq-gateway benchmark: the gateway over HTTP against RQ's own per-job API and a raw redis-py floor.

    python -m bench.run                      # N = 1k and 10k, 5 repetitions, 5 s wrk runs
    python -m bench.run --with-100k --out BENCHMARKS.md

It starts its own redis-server on a free loopback port, seeds failed jobs once with one real
`rq worker --burst` (SimpleWorker), snapshots every key with DUMP + PTTL, and restores that
snapshot (FLUSHDB + pipelined RESTORE, not timed) before every run that changes data. Progress
goes to stderr, the markdown tables to stdout; --out rewrites the results section of a file.
See bench/README.md for what each column measures and exactly what the floor includes.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import pickle
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import redis
import rq
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result
from rq.utils import utcformat

REPO = Path(__file__).resolve().parents[1]
QUEUE = "default"
CHUNK = 1000  # ids per floor pipeline
WORKER_SEED_CAP = 10_000  # more than this is cloned from the worker-seeded jobs (see --worker-seed)
GRAPHQL_PAGE = (
    "{ failedJobs(first: 100) { nodes { id funcName args kwargs createdAt endedAt excInfo result } } }"
)

REGISTRY_KEY = FailedJobRegistry.key_template.format(QUEUE)
QUEUE_KEY = Queue.redis_queue_namespace_prefix + QUEUE
QUEUES_SET = Queue.redis_queues_keys

_T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Processes: redis-server, the gateway, the bare FastAPI floor app
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, name: str) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop on SIGINT; killing pid {proc.pid}")
        proc.kill()
        proc.wait(5)


@contextmanager
def redis_server(workdir: Path) -> Iterator[tuple[str, redis.Redis]]:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--loglevel", "warning"),
        ],
        stdin=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    connection = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                connection.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        log(f"redis-server pid {proc.pid} on {url}")
        yield url, connection
    finally:
        connection.close()
        stop_process(proc, "redis-server")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    base: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_process(self.proc, self.name)


def start_server(name: str, argv: list[str], port: int, ready_path: str, workdir: Path, env=None) -> Server:
    out = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {workdir / (name + '.log')}")
        try:
            if httpx.get(base + ready_path, timeout=2).status_code == 200:
                return Server(name, proc, base)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_process(proc, name)
            raise RuntimeError(f"{name} not ready after 30 s")
        time.sleep(0.1)


def start_gateway(redis_url: str, workdir: Path) -> Server:
    port = free_port()
    exe = Path(sys.executable).parent / "rq-gateway"
    argv = [str(exe), "serve", "--redis-url", redis_url, "--port", str(port), "--log-level", "warning"]
    return start_server("gateway", argv, port, "/readyz", workdir)


def start_floor_app(redis_url: str, workdir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "BENCH_REDIS_URL": redis_url, "BENCH_QUEUE": QUEUE}
    return start_server("floor-app", argv, port, "/ping", workdir, env=env)


# --------------------------------------------------------------------------------------------
# Seeding and snapshots
# --------------------------------------------------------------------------------------------

Snapshot = list[tuple[bytes, int, bytes]]  # (key, pttl in ms or 0, DUMP payload)


def job_key(job_id: str) -> str:
    return Job.key_for(job_id)


def results_key(job_id: str) -> str:
    return Result.get_key(job_id)


def dump_all(r: redis.Redis) -> Snapshot:
    keys = list(r.scan_iter(count=1000))
    snapshot: Snapshot = []
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            for key in chunk:
                pipe.dump(key)
                pipe.pttl(key)
            replies = pipe.execute()
        for index, key in enumerate(chunk):
            payload, pttl = replies[2 * index], replies[2 * index + 1]
            if payload is not None and pttl != -2:
                snapshot.append((key, max(pttl, 0), payload))
    return snapshot


def restore(r: redis.Redis, snapshot: Snapshot) -> None:
    r.flushdb()
    for start in range(0, len(snapshot), CHUNK):
        with r.pipeline(transaction=False) as pipe:
            for key, pttl, payload in snapshot[start : start + CHUNK]:
                pipe.restore(key, pttl, payload, replace=True)
            pipe.execute()


def seed_with_worker(r: redis.Redis, redis_url: str, n: int) -> float:
    """Enqueue n parse_report("bad-i") jobs in pipelines; fail them with one real SimpleWorker."""
    from gateway.demo.jobs import parse_report

    r.flushdb()
    queue = Queue(QUEUE, connection=r)
    for start in range(0, n, CHUNK):
        with r.pipeline() as pipe:
            datas = [
                Queue.prepare_data(parse_report, (f"bad-{i}",)) for i in range(start, min(n, start + CHUNK))
            ]
            queue.enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    rq_cli = Path(sys.executable).parent / "rq"
    argv = [str(rq_cli), "worker", "--burst", "--worker-class", "rq.worker.SimpleWorker", "--quiet"]
    argv += ["--url", redis_url, QUEUE]
    started = time.perf_counter()
    subprocess.run(argv, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    failed = r.zcard(REGISTRY_KEY)
    if failed != n:
        raise RuntimeError(f"worker left {failed} failed jobs, expected {n}")
    return elapsed


def shrink_to(r: redis.Redis, n: int) -> None:
    """Keep the first n entries of the failed registry (and their keys); drop the rest."""
    drop = [x.decode() for x in r.zrange(REGISTRY_KEY, n, -1)]
    for start in range(0, len(drop), CHUNK):
        chunk = drop[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            pipe.zrem(REGISTRY_KEY, *chunk)
            pipe.delete(*[job_key(i) for i in chunk], *[results_key(i) for i in chunk])
            pipe.execute()


def grow_to(r: redis.Redis, n: int) -> None:
    """Clone the worker-failed jobs (job hash + results stream, same TTLs, same registry score)
    under new ids `<id>-c<k>` until the failed registry holds n entries."""
    sources = [(m.decode(), s) for m, s in r.zrange(REGISTRY_KEY, 0, -1, withscores=True)]
    dumps = {}
    for start in range(0, len(sources), CHUNK):
        with r.pipeline(transaction=False) as pipe:
            for job_id, _ in sources[start : start + CHUNK]:
                for key in (job_key(job_id), results_key(job_id)):
                    pipe.dump(key)
                    pipe.pttl(key)
            replies = pipe.execute()
        for index, (job_id, _) in enumerate(sources[start : start + CHUNK]):
            base = 4 * index
            dumps[job_id] = (replies[base : base + 2], replies[base + 2 : base + 4])
    have, k = len(sources), 0
    while have < n:
        k += 1
        batch = sources[: n - have]
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            with r.pipeline(transaction=False) as pipe:
                for job_id, score in chunk:
                    new_id = f"{job_id}-c{k}"
                    (job_dump, job_ttl), (res_dump, res_ttl) = dumps[job_id]
                    pipe.restore(job_key(new_id), max(job_ttl, 0), job_dump)
                    pipe.restore(results_key(new_id), max(res_ttl, 0), res_dump)
                    pipe.zadd(REGISTRY_KEY, {new_id: score})
                pipe.execute()
        have += len(batch)


def build_snapshots(r: redis.Redis, redis_url: str, sizes: list[int], worker_cap: int) -> dict:
    seeded = min(max(sizes), worker_cap)
    log(f"seeding {seeded:,} failed jobs with one rq SimpleWorker (burst) ...")
    worker_seconds = seed_with_worker(r, redis_url, seeded)
    log(f"worker failed {seeded:,} jobs in {worker_seconds:.1f} s")
    base = dump_all(r)
    snapshots = {}
    for n in sizes:
        restore(r, base)
        if n < seeded:
            shrink_to(r, n)
        elif n > seeded:
            log(f"cloning to {n:,} failed jobs ...")
            grow_to(r, n)
        assert r.zcard(REGISTRY_KEY) == n
        snapshots[n] = dump_all(r)
        log(f"snapshot N={n:,}: {len(snapshots[n]):,} keys")
    return {"snapshots": snapshots, "seeded": seeded, "worker_seconds": worker_seconds}


# --------------------------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------------------------


@dataclass
class Sample:
    times: list[float] = field(default_factory=list)
    note: str = ""
    extrapolated: bool = False

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def scaled(self, factor: float, note: str) -> Sample:
        return Sample([t * factor for t in self.times], note=note, extrapolated=True)


def timed(reps: int, run: Callable[[], Any], check: Callable[[Any], None], setup=None) -> Sample:
    sample = Sample()
    for _ in range(reps):
        if setup:
            setup()
        started = time.perf_counter()
        out = run()
        sample.times.append(time.perf_counter() - started)
        check(out)
    return sample


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"check failed: {message}")


# --------------------------------------------------------------------------------------------
# The three contestants: gateway over HTTP, RQ's per-job API, the raw redis-py floor
# --------------------------------------------------------------------------------------------


def http_json(client: httpx.Client, method: str, url: str, **kwargs) -> Any:
    response = client.request(method, url, **kwargs)
    expect(response.status_code == 200, f"{method} {url} -> {response.status_code} {response.text[:200]}")
    return response


def floor_retry(r: redis.Redis) -> int:
    """ZRANGE all ids, then per 1,000: ZREM (variadic) + HSET status/enqueued_at/started_at/ended_at
    per job + RPUSH (variadic) onto the queue, in one non-transactional pipeline."""
    ids = r.zrange(REGISTRY_KEY, 0, -1)
    now = utcformat(datetime.now(timezone.utc))
    prefix = Job.redis_job_namespace_prefix.encode()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            pipe.zrem(REGISTRY_KEY, *chunk)
            for job_id in chunk:
                pipe.hset(
                    prefix + job_id,
                    mapping={"status": "queued", "enqueued_at": now, "started_at": "", "ended_at": ""},
                )
            pipe.rpush(QUEUE_KEY, *chunk)
            pipe.execute()
    return len(ids)


def floor_clear(r: redis.Redis) -> int:
    """ZRANGE all ids, then per 1,000: ZREM (variadic) + DEL of every job hash and results stream."""
    ids = r.zrange(REGISTRY_KEY, 0, -1)
    job_prefix = Job.redis_job_namespace_prefix.encode()
    results_prefix = results_key("").encode()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            pipe.zrem(REGISTRY_KEY, *chunk)
            pipe.delete(*[job_prefix + i for i in chunk], *[results_prefix + i for i in chunk])
            pipe.execute()
    return len(ids)


def _text(raw: bytes | None) -> str | None:
    return raw.decode() if raw else None


def floor_decode(job_id: bytes, raw: dict, latest: list) -> dict:
    """The same JSON fields the REST list returns, with the least Python: zlib + pickle for the
    call, base64 + zlib for the traceback, stored timestamps passed through as text."""
    func_name, _instance, args, kwargs = pickle.loads(zlib.decompress(raw[b"data"]))
    exc_info = None
    if latest:
        encoded = latest[0][1].get(b"exc_string")
        if encoded:
            exc_info = zlib.decompress(base64.b64decode(encoded)).decode()
    status = raw[b"status"].decode()
    return {
        "job_id": job_id.decode(),
        "status": status,
        "func_name": func_name,
        "args": list(args),
        "kwargs": kwargs,
        "created_at": _text(raw.get(b"created_at")),
        "enqueued_at": _text(raw.get(b"enqueued_at")),
        "started_at": _text(raw.get(b"started_at")),
        "ended_at": _text(raw.get(b"ended_at")),
        "result": None,
        "exc_info": exc_info,
        "origin": _text(raw.get(b"origin")),
        "description": _text(raw.get(b"description")),
        "is_finished": status == "finished",
        "is_failed": status == "failed",
        "is_started": status == "started",
        "is_queued": status == "queued",
    }


def floor_list(r: redis.Redis, limit: int | None) -> bytes:
    """ZRANGE (first `limit` or all), then per 1,000 ids one pipeline of HGETALL + XREVRANGE COUNT 1,
    decoded into a list of dicts and json.dumps'd: the REST response body minus HTTP."""
    ids = r.zrange(REGISTRY_KEY, 0, -1 if limit is None else limit - 1)
    job_prefix = Job.redis_job_namespace_prefix.encode()
    results_prefix = results_key("").encode()
    jobs = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with r.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hgetall(job_prefix + job_id)
                pipe.xrevrange(results_prefix + job_id, "+", "-", count=1)
            replies = pipe.execute()
        for index, job_id in enumerate(chunk):
            jobs.append(floor_decode(job_id, replies[2 * index], replies[2 * index + 1]))
    return json.dumps(jobs).encode()


def loop_retry(r: redis.Redis) -> int:
    """What rq-dashboard and `rq requeue --all` do: FailedJobRegistry.requeue, one job at a time."""
    registry = FailedJobRegistry(QUEUE, connection=r)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.requeue(job_id)
    return len(ids)


def loop_clear(r: redis.Redis) -> int:
    """Job.fetch(id).delete() per job (delete() also removes it from the failed registry)."""
    registry = FailedJobRegistry(QUEUE, connection=r)
    ids = registry.get_job_ids()
    for job_id in ids:
        Job.fetch(job_id, connection=r).delete()
    return len(ids)


def _iso(value: datetime | None) -> str | None:
    return utcformat(value) if value else None


def loop_list(r: redis.Redis, limit: int | None) -> bytes:
    """Job.fetch_many (one pipeline of HGETALLs) + job.latest_result() per job for exc_info."""
    registry = FailedJobRegistry(QUEUE, connection=r)
    ids = registry.get_job_ids(0, -1 if limit is None else limit - 1)
    out = []
    for job in Job.fetch_many(ids, connection=r):
        result = job.latest_result()
        status = job.get_status(refresh=False)
        status = getattr(status, "value", status)
        out.append(
            {
                "job_id": job.id,
                "status": status,
                "func_name": job.func_name,
                "args": list(job.args),
                "kwargs": job.kwargs,
                "created_at": _iso(job.created_at),
                "enqueued_at": _iso(job.enqueued_at),
                "started_at": _iso(job.started_at),
                "ended_at": _iso(job.ended_at),
                "result": None,
                "exc_info": result.exc_string if result else None,
                "origin": job.origin,
                "description": job.description,
                "is_finished": status == "finished",
                "is_failed": status == "failed",
                "is_started": status == "started",
                "is_queued": status == "queued",
            }
        )
    return json.dumps(out).encode()


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


@dataclass
class OpResult:
    name: str
    gateway: Sample | None = None
    floor: Sample | None = None
    loop: Sample | None = None


def measure_ops(
    n: int,
    r: redis.Redis,
    client: httpx.Client,
    gateway: Server,
    snapshot: Snapshot,
    reps: int,
    loop_reps: int,
    loop_from: dict | None,
) -> dict[str, OpResult]:
    """loop_from: {op: Sample at a smaller N} to extrapolate RQ's per-job loop instead of running it."""
    ops: dict[str, OpResult] = {}
    api = gateway.base + "/api/v1/jobs"
    reset = lambda: restore(r, snapshot)  # noqa: E731

    def moved_all(_out: Any) -> None:
        expect(r.zcard(REGISTRY_KEY) == 0, "failed registry empty after retry")
        expect(r.llen(QUEUE_KEY) == n, f"queue holds {n} after retry")

    def cleared_all(_out: Any) -> None:
        expect(r.zcard(REGISTRY_KEY) == 0, "failed registry empty after clear")
        expect(r.dbsize() < len(snapshot) - 2 * n + 10, "job hashes and results deleted")

    def rest_retry_ok(resp: httpx.Response) -> None:
        body = resp.json()
        expect(body["requeued_count"] == n and body["error_count"] == 0, f"retry-all: {str(body)[:200]}")
        moved_all(resp)

    def rest_clear_ok(resp: httpx.Response) -> None:
        body = resp.json()
        expect(body["deleted_count"] == n and body["error_count"] == 0, f"clear: {str(body)[:200]}")
        cleared_all(resp)

    def count_is(k: int) -> Callable[[Any], None]:
        def check(out: Any) -> None:
            data = out.content if isinstance(out, httpx.Response) else out
            expect(len(json.loads(data)) == k, f"{k} jobs listed")

        return check

    def graphql_ok(resp: httpx.Response) -> None:
        body = resp.json()
        expect("errors" not in body, f"graphql errors: {str(body)[:300]}")
        expect(len(body["data"]["failedJobs"]["nodes"]) == 100, "graphql page of 100")

    def loop_or_extrapolate(op: str, run, check, setup) -> Sample:
        if loop_from and op in loop_from:
            small_n, sample = loop_from[op]
            factor = n / small_n
            return sample.scaled(factor, f"extrapolated x{factor:g} from N={small_n:,}")
        return timed(loop_reps, run, check, setup)

    page = min(100, n)

    log(f"N={n:,}: retry-all")
    ops["retry"] = OpResult(
        "retry-all (REST)",
        gateway=timed(
            reps, lambda: http_json(client, "POST", api + "/failed/retry-all"), rest_retry_ok, reset
        ),
        floor=timed(reps, lambda: floor_retry(r), moved_all, reset),
    )
    ops["retry"].loop = loop_or_extrapolate("retry", lambda: loop_retry(r), moved_all, reset)

    log(f"N={n:,}: clear")
    ops["clear"] = OpResult(
        "clear (REST)",
        gateway=timed(reps, lambda: http_json(client, "DELETE", api + "/failed/clear"), rest_clear_ok, reset),
        floor=timed(reps, lambda: floor_clear(r), cleared_all, reset),
    )
    ops["clear"].loop = loop_or_extrapolate("clear", lambda: loop_clear(r), cleared_all, reset)

    log(f"N={n:,}: page of 100 (REST, GraphQL)")
    reset()
    page_reps = 4 * reps
    rest_page = lambda: http_json(client, "GET", api + "/failed", params={"limit": 100})  # noqa: E731
    gql_page = lambda: http_json(client, "POST", gateway.base + "/graphql", json={"query": GRAPHQL_PAGE})  # noqa: E731
    for warm in (rest_page, gql_page, lambda: floor_list(r, 100), lambda: loop_list(r, 100)):
        warm()
    ops["page"] = OpResult(
        "page of 100 with exc_info (REST)",
        gateway=timed(page_reps, rest_page, count_is(page)),
        floor=timed(page_reps, lambda: floor_list(r, 100), count_is(page)),
        loop=timed(page_reps, lambda: loop_list(r, 100), count_is(page)),  # cheap: as many as the others
    )
    ops["graphql"] = OpResult(
        "same page through GraphQL",
        gateway=timed(page_reps, gql_page, graphql_ok),
        floor=ops["page"].floor,
    )

    log(f"N={n:,}: list all")
    list_all = lambda: http_json(client, "GET", api + "/failed")  # noqa: E731
    list_reps = 1 if loop_from else reps  # tens of seconds each at 100k
    ops["list"] = OpResult(
        f"list all {n:,} with exc_info (REST)",
        gateway=timed(list_reps, list_all, count_is(n)),
        floor=timed(list_reps, lambda: floor_list(r, None), count_is(n)),
    )
    ops["list"].loop = loop_or_extrapolate("list", lambda: loop_list(r, None), count_is(n), None)

    log(f"N={n:,}: failure groups")
    restore(r, snapshot)
    ops["groups"] = measure_groups(n, client, gateway, reps)
    return ops


def measure_groups(n: int, client: httpx.Client, gateway: Server, reps: int) -> OpResult:
    """GET /failed/groups over the whole registry (a read: runs share one restore). The seeded jobs
    all fail alike, so every job is read, decoded and normalized, and they form one group."""

    def grouped_all(resp: httpx.Response) -> None:
        body = resp.json()
        expect(body["total_failed"] == n, f"groups: total_failed {body['total_failed']}")
        expect(sum(g["count"] for g in body["groups"]) == n, f"groups: {str(body)[:200]}")

    groups = lambda: http_json(client, "GET", gateway.base + "/api/v1/jobs/failed/groups")  # noqa: E731
    groups()  # warm-up: loads the read script into Redis
    return OpResult(f"failure groups over {n:,} failed jobs (REST)", gateway=timed(reps, groups, grouped_all))


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


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


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


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, value = line.split(":", 1)
            out[name] = int(value.split()[0]) * 1024
    return out


def measure_rss(n: int, r: redis.Redis, redis_url: str, workdir: Path, snapshot: Snapshot) -> dict:
    """Per bulk op: a fresh gateway, warmed up (readyz, stats, a page of 100), VmHWM reset through
    /proc/PID/clear_refs, baseline VmRSS; then the op; growth = VmHWM after - baseline VmRSS."""
    out = {}
    for op, method, path in (("retry", "POST", "/failed/retry-all"), ("clear", "DELETE", "/failed/clear")):
        restore(r, snapshot)
        gateway = start_gateway(redis_url, workdir)
        try:
            with httpx.Client(timeout=600) as client:
                client.get(gateway.base + "/api/v1/jobs/stats").raise_for_status()
                client.get(gateway.base + "/api/v1/jobs/failed", params={"limit": 100}).raise_for_status()
                reset_hwm = True
                try:
                    Path(f"/proc/{gateway.pid}/clear_refs").write_text("5")
                except OSError:
                    reset_hwm = False
                before = proc_status(gateway.pid)
                started = time.perf_counter()
                response = http_json(client, method, gateway.base + "/api/v1/jobs" + path)
                elapsed = time.perf_counter() - started
                after = proc_status(gateway.pid)
            body = response.json()
            done = body.get("requeued_count", body.get("deleted_count"))
            expect(done == n, f"RSS run {op}: {done} of {n}")
            out[op] = {
                "baseline": before["VmRSS"],
                "hwm_before": before["VmHWM"],
                "peak": after["VmHWM"],
                "growth": after["VmHWM"] - before["VmRSS"],
                "seconds": elapsed,
                "reset_hwm": reset_hwm,
            }
        finally:
            gateway.stop()
    return out


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


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


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine() -> list[str]:
    from importlib.metadata import version

    import fastapi
    import strawberry  # noqa: F401
    import uvicorn

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    redis_version = version_of([shutil.which("redis-server") or "redis-server", "--version"])
    redis_version = re.search(r"v=(\S+)", redis_version).group(1) if "v=" in redis_version else redis_version
    return [
        f"- Machine: {os.cpu_count()} cores (`nproc`), {cpu}, {int(mem) // 1024:,} MB RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, redis-server {redis_version}, rq {rq.__version__}, "
        f"redis-py {redis.__version__} (hiredis {'yes' if _has_hiredis() else 'no'}), "
        f"fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, "
        f"strawberry-graphql {version('strawberry-graphql')}, httpx {httpx.__version__}, "
        f"{version_of([shutil.which('wrk') or 'wrk', '--version']).split(' Copyright')[0]}",
    ]


def gateway_revision() -> str:
    head = version_of(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    try:
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "gateway"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    return f"`{head}`" + (" with uncommitted changes under gateway/" if dirty else "")


def _has_hiredis() -> bool:
    try:
        import hiredis  # noqa: F401
    except ImportError:
        return False
    return True


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


def write_out(path: Path, body: str) -> None:
    section = f"{BEGIN}\n{body}\n{END}"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Latest results\n\n" + section + "\n"
    path.write_text(text)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


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
        floor = start_floor_app(redis_url, workdir)
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

    body = render(args, seeding, results, started_at, time.perf_counter() - wall)
    print(body)
    log("targets:\n  " + "\n  ".join(summary(results)))
    if args.out:
        write_out(args.out, body)
        log(f"wrote results to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
