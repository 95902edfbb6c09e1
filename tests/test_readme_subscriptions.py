"""The README's Subscriptions example, run as written (a `websockets` client) against a demo
server started by the CLI: it prints the default queue's counts, which REST reports too."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
import requests

from tests.test_cli import free_port, wait_ready
from tests.test_readme import section


def subscription_example() -> str:
    (block,) = re.findall(r"```python\n(.*?)```", section("Subscriptions"), flags=re.S)
    return block


@pytest.mark.e2e
def test_the_readme_subscription_example_prints_the_counts_rest_reports():
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        script = subscription_example().replace("localhost:8000", f"127.0.0.1:{port}")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        printed = ast.literal_eval(done.stdout.strip())
        rest = requests.get(f"http://127.0.0.1:{port}/api/v1/jobs/stats", timeout=10).json()
    finally:
        server.terminate()
        server.communicate(timeout=15)
    assert printed == {
        "data": {
            "queueStats": {
                "queueName": "default",
                "queuedCount": rest["queued_count"],
                "failedCount": rest["failed_count"],
            }
        }
    }
