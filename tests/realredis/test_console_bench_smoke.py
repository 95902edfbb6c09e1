"""The console benchmark's command line at its smallest (bench/console.py), so it cannot rot
between full runs: 250 failed jobs, 3 queues, one run, both rows reported."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bench.infra import REPO
from tests.test_docs_browser import _require_browser

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_console_benchmark_reports_both_rows(redis_server_binary):
    _require_browser()
    done = subprocess.run(
        [sys.executable, "-m", "bench.console", "--runs", "1", "--failed", "250", "--queues", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for name in ("overview ready", "page of 100 failed jobs rendered"):
        assert re.search(rf"\| {name}[^|]* \| 1 \| \d+ ms \|", done.stdout), done.stdout
    assert "3 queues, 250 failed jobs" in done.stdout
