"""End to end on a real Redis with a real worker: the README's Security walk-through, run as
written against `python -m gateway serve --api-keys-file ...` under uvicorn."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.test_readme import bash_blocks, section

from .helpers import PROJECT_ROOT, RedisServer, failed_ids, free_port, wait_until

pytestmark = pytest.mark.e2e

RQ_GATEWAY = f"{sys.executable} -m gateway"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "RQ_GATEWAY_"))}


def bash(script: str, cwd: Path, port: int | None = None) -> str:
    script = script.replace("rq-gateway ", f"{RQ_GATEWAY} ")
    if port is not None:
        script = script.replace("localhost:8000", f"127.0.0.1:{port}")
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{script}\n--- stderr:\n{done.stderr}"
    return done.stdout


class Served:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log
        self.base = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def serve(command: str, cwd: Path) -> Iterator[Served]:
    port = free_port()
    log = cwd / f"gateway-{port}.log"
    args = [*command.replace("rq-gateway", RQ_GATEWAY).split(), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=cwd, env=clean_env(), stdout=out, stderr=subprocess.STDOUT)
    served = Served(process, port, log)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gateway exited with {process.returncode}:\n{served.output()}", pytrace=False)
        try:
            return requests.get(f"{served.base}/readyz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(ready, 30, "the keyed gateway to answer GET /readyz", interval=0.1)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def keys_dir(tmp_path) -> Path:
    """The README's key-creation block, run as written."""
    create, *_ = bash_blocks(section("Security"))
    assert "keys create" in create
    bash(create, tmp_path)
    return tmp_path


def test_readme_security_walkthrough(redis_server: RedisServer, r, fail_jobs, keys_dir):
    billing = fail_jobs(2, queue="billing-eu")
    fail_jobs(1, queue="default")
    _, serve_block, requests_block, audit_block = bash_blocks(section("Security"))[:4]
    command = serve_block.strip().replace("redis://localhost:6379/0", redis_server.url)
    command = command.replace("--host 0.0.0.0", "--host 127.0.0.1")
    served = next(gen := serve(command, keys_dir))
    try:
        output = bash(requests_block, keys_dir, served.port)
        statuses = re.findall(r"HTTP/1.1 (\d+)", output)  # curl prints bodies without a newline
        assert statuses == ["401", "403", "403"]
        assert "www-authenticate: Bearer" in output.lower().replace("bearer", "Bearer")
        assert '"requeued_count":2' in output and set(billing) <= set(
            re.findall(r'"([0-9a-f-]{36})"', output)
        )
        assert '"code":"FORBIDDEN"' in output
        assert failed_ids(r, "billing-eu") == [] and len(failed_ids(r, "default")) == 1

        # The README's blocks are one shell session: the audit block uses the variables set before.
        variables = "\n".join(line for line in requests_block.splitlines() if re.match(r"[A-Z_]+=", line))
        audit_output = bash(variables + "\n" + audit_block, keys_dir, served.port)
        rest_page, _ = json.JSONDecoder().raw_decode(audit_output)
        trail = [(e["key"], e["action"], e["queue"], e["outcome"], e["error"]) for e in rest_page["entries"]]
        assert trail[:3] == [
            ("oncall", "clear", "billing-eu", "refused", "Forbidden"),
            ("oncall", "retry_all", "billing-eu", "ok", None),
            ("oncall", "retry_all", "default", "refused", "Forbidden"),
        ]
        assert rest_page["entries"][1]["job_count"] == 2
        assert r.xlen("rq-gateway:audit") == 3, "the real Redis stream holds the same records"
        assert '"auditLog":{"totalCount":3' in audit_output.replace(" ", "")
        log = served.output()
        assert log.count('"action":"retry_all"') == 2 and '"outcome":"refused"' in log
        assert "3 API keys configured: dashboard (viewer), oncall (operator), admin (admin)" in log
        for name in ("dashboard", "oncall", "admin"):
            key = (keys_dir / f"{name}.txt").read_text().splitlines()[1]
            assert key not in log, f"the {name} key leaked into the log"
    finally:
        gen.close()


def test_several_worker_processes_enforce_the_same_keys(redis_server: RedisServer, r, fail_jobs, keys_dir):
    (job_id,) = fail_jobs(1)
    # Settings of both kinds reach the worker processes: the keys file, and ordinary options.
    command = (
        f"rq-gateway serve --redis-url {redis_server.url} --workers 2 --api-keys-file api-keys.txt"
        " --no-graphiql --graphql-max-depth 1"
    )
    served = next(gen := serve(command, keys_dir))
    try:
        viewer = {"Authorization": "Bearer " + (keys_dir / "dashboard.txt").read_text().splitlines()[1]}
        admin = {"Authorization": "Bearer " + (keys_dir / "admin.txt").read_text().splitlines()[1]}
        # Several requests, so both processes answer some of them.
        for _ in range(6):
            assert requests.get(f"{served.base}/api/v1/jobs/stats", timeout=10).status_code == 401
            assert (
                requests.get(f"{served.base}/api/v1/jobs/stats", headers=viewer, timeout=10).status_code
                == 200
            )
            page = requests.get(
                f"{served.base}/graphql", headers={**viewer, "Accept": "text/html"}, timeout=10
            )
            assert "graphiql" not in page.text.lower()
            deep = {"query": "{ failedJobs { edges { node { id } } } }"}
            too_deep = requests.post(f"{served.base}/graphql", json=deep, headers=viewer, timeout=10).json()
            assert "exceeds maximum operation depth of 1" in too_deep["errors"][0]["message"]
        url = f"{served.base}/api/v1/jobs/failed/{job_id}"
        assert requests.delete(url, headers=viewer, timeout=10).status_code == 403
        assert requests.delete(url, headers=admin, timeout=10).status_code == 200
        assert failed_ids(r) == []
    finally:
        gen.close()


def test_a_public_address_without_keys_refuses_to_start(redis_server: RedisServer, tmp_path):
    port = free_port()
    done = subprocess.run(
        [
            *RQ_GATEWAY.split(),
            "serve",
            "--redis-url",
            redis_server.url,
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Refusing to serve 0.0.0.0 without API keys" in done.stderr
