"""A Prometheus scrape emulated against a real redis-server and a real `rq worker`: /metrics parsed
with prometheus_client.parser equals RQ's own counts (Queue.count, each registry's count,
Worker.all), under rq-exporter's label names, in at most three round trips for 1 or 200 queues,
without one write. Then the CLI-started gateway with --workers 2: the counters are the sum over
both processes, and the multiprocess directory is the CLI's own, removed when it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.mmap_dict import MmapedDict
from rq import Queue, Worker

from gateway.demo import jobs
from tests.conftest import RoundTrips
from tests.metrics_scrape import families, label_names, value
from tests.test_metrics import RQ_EXPORTER_LABELS

from .helpers import HERE, RQ_BIN, wait_until
from .processes import GatewayProcess

# Commands a scrape may send: reads only (INFO commandstats proves no other one reached Redis).
READ_COMMANDS = {"smembers", "llen", "zcard", "zcount", "lindex", "hgetall", "hget"}


@pytest.fixture
def live_worker(redis_url: str, tmp_path: Path) -> Iterator[str]:
    """A long-running `rq worker` on "default" (not --burst: it stays registered), stopped warm."""
    name = "metrics-worker"
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(RQ_BIN), "worker", "--url", redis_url, "--name", name, "default"],
        cwd=HERE,
        env={**os.environ, "PYTHONPATH": str(HERE)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield name
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _commandstats(r: redis.Redis) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in r.info("commandstats").items()}


def test_a_scrape_equals_rqs_own_counts_with_a_real_worker(client, r, live_worker):
    queue = Queue("default", connection=r)
    failed = [queue.enqueue(jobs.parse_report, f"bad-{i}") for i in range(3)]
    finished = [queue.enqueue(jobs.add, i, 1) for i in range(2)]
    wait_until(lambda: queue.failed_job_registry.count == 3, 60, "the worker to fail 3 jobs")
    wait_until(lambda: queue.finished_job_registry.count == 2, 60, "the worker to finish 2 jobs")
    wait_until(lambda: Worker.all(connection=r)[0].get_state() == "idle", 30, "the worker to idle")
    Queue("reports", connection=r).enqueue(jobs.add, 1, 1)  # no worker listens: it waits

    found = families(client.get("/metrics").text)

    for name, labels in RQ_EXPORTER_LABELS.items():
        assert label_names(found, name) == {frozenset(labels)}, name
    for name in ("default", "reports"):
        q = Queue(name, connection=r)
        registries = {
            "failed": q.failed_job_registry,
            "finished": q.finished_job_registry,
            "started": q.started_job_registry,
            "deferred": q.deferred_job_registry,
            "scheduled": q.scheduled_job_registry,
            "canceled": q.canceled_job_registry,
            "ready_to_enqueue": q.ready_job_registry,
        }
        assert value(found, "rq_jobs", queue=name, status="queued") == q.count
        for status, registry in registries.items():
            assert value(found, "rq_jobs", queue=name, status=status) == registry.count, (name, status)
    assert value(found, "rq_jobs", queue="default", status="failed") == len(failed)
    assert value(found, "rq_jobs", queue="default", status="finished") == len(finished)
    assert value(found, "rq_jobs", queue="reports", status="queued") == 1
    assert value(found, "rq_queue_latency_seconds", queue="reports") >= 0

    (worker,) = Worker.all(connection=r)
    labels = {"name": worker.name, "queues": ",".join(worker.queue_names())}
    assert worker.name == live_worker
    assert value(found, "rq_workers", state=worker.get_state(), **labels) == 1
    assert value(found, "rq_workers_success_total", **labels) == worker.successful_job_count == 2
    assert value(found, "rq_workers_failed_total", **labels) == worker.failed_job_count == 3
    assert value(found, "rq_workers_working_time_total", **labels) == pytest.approx(worker.total_working_time)


@pytest.mark.parametrize("queues", [1, 200])
def test_a_scrape_is_at_most_three_round_trips_and_never_writes(app, client, r, queues, monkeypatch):
    for index in range(queues):
        Queue(f"q{index}", connection=r).enqueue(jobs.add, index, 1)
        worker = Worker([f"q{index}"], connection=r, name=f"w{index}")
        worker.register_birth()
    assert client.get("/readyz").status_code == 200  # the connection's handshake, before counting
    trips = RoundTrips(monkeypatch, app.state.service.connection)
    before = _commandstats(r)
    text = client.get("/metrics").text
    after = _commandstats(r)
    assert trips.count <= 3, trips.commands
    sent = {name for name, calls in after.items() if calls > before.get(name, 0)} - {"info"}
    assert sent <= READ_COMMANDS, sent
    found = families(text)
    assert len({item.labels["queue"] for item in found["rq_jobs"].samples}) == queues
    assert len(found["rq_workers"].samples) == queues


def test_workers_2_sums_the_counters_of_both_processes(redis_url, r, tmp_path):
    gateway = GatewayProcess(redis_url, tmp_path / "gateway.log", "--workers", "2").start()
    try:
        directory = _worker_variable(gateway.pid, "PROMETHEUS_MULTIPROC_DIR")
        assert Path(directory).is_dir()
        url = gateway.base + "/api/v1/jobs/stats"
        sent, served = 0, {}
        # The kernel hands each new connection to either process, not necessarily evenly: send
        # batches until both have answered some (the point is the sum over both).
        for _ in range(MAX_BATCHES):
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda _: _get(url).status_code, range(BATCH)))
            assert statuses == [200] * BATCH
            sent += BATCH
            # A request is counted once its answer is sent: the last ones may still be on their way.
            served = wait_until(
                lambda sent=sent: (
                    (counts := _stats_requests_by_process(Path(directory)))
                    and sum(counts.values()) == sent
                    and counts
                ),
                10,
                f"{sent} requests counted in the multiprocess files",
            )
            if len([pid for pid, count in served.items() if count]) == 2:
                break
        assert len([pid for pid, count in served.items() if count]) == 2, served
        for _ in range(6):  # each scrape is answered by one process; each must see the sum
            found = families(_get(gateway.base + "/metrics").text)
            assert value(found, "rq_gateway_http_requests_total", route="/api/v1/jobs/stats") == sent
            assert value(found, "rq_gateway_redis_up") == 1
            # The RQ gauges are read once per scrape: one series each, not one per process.
            assert len([s for s in found["rq_jobs"].samples if s.labels["status"] == "queued"]) <= 1
    finally:
        gateway.stop()
    assert not Path(directory).exists(), "the CLI removes its multiprocess directory when it stops"


BATCH, MAX_BATCHES = 40, 20


def _get(url: str) -> requests.Response:
    return requests.get(url, timeout=10, headers={"Connection": "close"})


def _stats_requests_by_process(directory: Path) -> dict[str, float]:
    """GET /api/v1/jobs/stats as counted in each process's own multiprocess file."""
    counts: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = path.stem.removeprefix("counter_")
        for key, count, *_ in MmapedDict.read_all_values_from_file(str(path)):
            sample, labels = json.loads(key)[1:3]
            if sample == "rq_gateway_http_requests_total" and labels.get("route") == "/api/v1/jobs/stats":
                counts[pid] = counts.get(pid, 0) + count
    return counts


def _worker_variable(pid: int, name: str) -> str:
    """The variable as uvicorn's worker processes (children of the CLI's) were started with."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    values = set()
    for child in children:
        raw = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        values |= {item.decode().split("=", 1)[1] for item in raw if item.startswith(name.encode() + b"=")}
    assert len(values) == 1, values
    return values.pop()
