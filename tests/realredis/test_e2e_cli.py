"""End to end: `python -m gateway serve --redis-url ...` under real uvicorn, a real redis-server and a
real `rq worker`, driven over HTTP with the contract's curl calls and its Python requests example."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rq import Queue

from gateway.demo import jobs
from tests.contract import CONTRACT_JOB_KEYS, CONTRACT_STATUS_KEYS

from .helpers import (
    API,
    PROJECT_ROOT,
    RedisServer,
    failed_ids,
    free_port,
    queued_ids,
    wait_until,
)

pytestmark = pytest.mark.e2e

CONTRACT_STATS_KEYS = {"queue_name", "queued_count", "failed_count", "started_count", "finished_count"}
CONTRACT_RETRY_ALL_KEYS = {
    "success",
    "total_failed",
    "requeued_count",
    "error_count",
    "requeued_jobs",
    "errors",
}
CONTRACT_CLEAR_KEYS = {"success", "total_failed", "deleted_count", "error_count", "deleted_jobs", "errors"}


class ServedGateway:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(redis_server: RedisServer, tmp_path_factory) -> Iterator[ServedGateway]:
    port = free_port()
    log = tmp_path_factory.mktemp("gateway-cli") / "gateway.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "RQ_GATEWAY_"))}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--redis-url", redis_server.url, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    gateway = ServedGateway(process, port, log)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gateway exited with {process.returncode}:\n{gateway.output()}", pytrace=False)
        try:
            return requests.get(f"{gateway.base}/readyz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(ready, 30, "the CLI-started gateway to answer GET /readyz with 200", interval=0.1)
        yield gateway
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                pytest.fail(f"gateway ignored SIGTERM:\n{gateway.output()}", pytrace=False)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit status -SIGTERM).
    assert process.returncode in (0, -signal.SIGTERM), gateway.output()
    assert "Application shutdown complete" in gateway.output()


def test_cli_serves_real_redis_under_uvicorn(served: ServedGateway, r, redis_url):
    response = requests.get(f"{served.base}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.headers["server"] == "uvicorn"
    assert "DEMO MODE" not in served.output()
    assert f"Managing RQ jobs on {redis_url}" in served.output()
    assert "Cannot reach Redis" not in served.output()
    openapi = requests.get(f"{served.base}/openapi.json", timeout=5).json()
    assert f"{API}/failed/{{job_id}}/retry" in openapi["paths"]
    graphql = requests.post(
        f"{served.base}/graphql", json={"query": "{ queueStats { queueName } }"}, timeout=5
    )
    assert graphql.json() == {"data": {"queueStats": {"queueName": "default"}}}


def test_contract_curl_calls(served: ServedGateway, r, worker):
    base_url = f"{served.base}{API}"
    q = Queue("default", connection=r)
    flaky = [q.enqueue(jobs.flaky_charge, order).id for order in (101, 102, 103)]
    broken = q.enqueue(jobs.parse_report, "garbled-2024-02").id
    finished = q.enqueue(jobs.add, 2, 3).id
    worker()

    # curl http://localhost:8000/api/v1/jobs/failed
    response = requests.get(f"{base_url}/failed", timeout=10)
    assert response.status_code == 200
    listed = response.json()
    assert [job["job_id"] for job in listed] == failed_ids(r)
    assert sorted(job["job_id"] for job in listed) == sorted([*flaky, broken])
    for job in listed:
        assert job.keys() >= CONTRACT_JOB_KEYS
        assert "Traceback (most recent call last)" in job["exc_info"]
        assert job["created_at"].endswith("Z") and job["ended_at"].endswith("Z")

    # curl -X POST http://localhost:8000/api/v1/jobs/failed/abc-123/retry
    response = requests.post(f"{base_url}/failed/{flaky[0]}/retry", timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "job_id": flaky[0],
        "message": f"Job {flaky[0]} has been requeued successfully",
    }
    missing = requests.post(f"{base_url}/failed/abc-123/retry", timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Job abc-123 not found in failed jobs registry"}

    # curl -X POST http://localhost:8000/api/v1/jobs/failed/retry-all
    response = requests.post(f"{base_url}/failed/retry-all", timeout=10)
    assert response.status_code == 200
    retry_all = response.json()
    assert retry_all.keys() == CONTRACT_RETRY_ALL_KEYS
    assert retry_all["total_failed"] == retry_all["requeued_count"] == 3
    assert sorted(retry_all["requeued_jobs"]) == sorted([*flaky[1:], broken])
    assert (retry_all["success"], retry_all["error_count"], retry_all["errors"]) == (True, 0, [])

    # curl http://localhost:8000/api/v1/jobs/stats
    response = requests.get(f"{base_url}/stats", timeout=10)
    assert response.status_code == 200
    stats = response.json()
    assert stats.keys() >= CONTRACT_STATS_KEYS
    assert (stats["queue_name"], stats["queued_count"], stats["failed_count"]) == ("default", 4, 0)
    assert stats["finished_count"] == 1
    assert sorted(queued_ids(r)) == sorted([*flaky, broken])

    # curl http://localhost:8000/api/v1/jobs/status/abc-123
    response = requests.get(f"{base_url}/status/{finished}", timeout=10)
    assert response.status_code == 200
    status = response.json()
    assert status.keys() >= CONTRACT_STATUS_KEYS
    assert (status["status"], status["result"], status["is_finished"]) == ("finished", 5, True)

    worker()  # the requeued jobs run again: the flaky charges succeed, the malformed report fails again

    for job_id, order in zip(flaky, (101, 102, 103), strict=True):
        status = requests.get(f"{base_url}/status/{job_id}", timeout=10).json()
        assert (status["status"], status["result"]) == ("finished", f"order {order} charged")
    assert failed_ids(r) == [broken]

    # curl -X DELETE http://localhost:8000/api/v1/jobs/failed/abc-123
    response = requests.delete(f"{base_url}/failed/{broken}", timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "job_id": broken,
        "message": f"Job {broken} has been deleted successfully",
    }
    assert r.exists(f"rq:job:{broken}", f"rq:results:{broken}") == 0

    # curl -X DELETE http://localhost:8000/api/v1/jobs/failed/clear
    q.enqueue(jobs.parse_report, "garbled-2024-03")
    worker()
    response = requests.delete(f"{base_url}/failed/clear", timeout=10)
    assert response.status_code == 200
    clear = response.json()
    assert clear.keys() == CONTRACT_CLEAR_KEYS
    assert (clear["total_failed"], clear["deleted_count"], clear["success"]) == (1, 1, True)
    assert failed_ids(r) == []


def test_contract_python_requests_example(served: ServedGateway, r, fail_jobs, capsys):
    fail_jobs(2)

    # The contract's "Using Python requests" example, verbatim but for the address.
    base_url = f"{served.base}/api/v1/jobs"

    # List failed jobs
    response = requests.get(f"{base_url}/failed")
    failed_jobs = response.json()

    # Retry all failed jobs
    response = requests.post(f"{base_url}/failed/retry-all")
    result = response.json()
    print(f"Requeued {result['requeued_count']} jobs")

    # Get queue stats
    response = requests.get(f"{base_url}/stats")
    stats = response.json()
    print(f"Failed jobs: {stats['failed_count']}")

    assert len(failed_jobs) == 2
    assert capsys.readouterr().out == "Requeued 2 jobs\nFailed jobs: 0\n"
    assert stats["queued_count"] == 2


def test_several_worker_processes_share_the_work(redis_server: RedisServer, r, fail_jobs, tmp_path):
    failed = fail_jobs(3)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "RQ_GATEWAY_"))}
    env.update({"REDIS_URL": redis_server.url, "RQ_GATEWAY_WORKERS": "2", "RQ_GATEWAY_LOG_LEVEL": "info"})
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    api = f"{base}{API}"

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return requests.get(f"{base}/readyz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(ready, 30, "the 2-worker gateway to answer GET /readyz", interval=0.1)
        stats = [requests.get(f"{api}/stats", timeout=5).json() for _ in range(20)]
        assert {s["failed_count"] for s in stats} == {3}
        body = requests.post(f"{api}/failed/retry-all", timeout=10).json()
        assert sorted(body["requeued_jobs"]) == sorted(failed)
        assert sorted(queued_ids(r)) == sorted(failed)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    output = log.read_text()
    assert output.count("Started server process") == 2, output
    assert "Traceback" not in output
