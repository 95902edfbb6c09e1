"""The smallest runs of the benchmark harness (bench/), against a real redis-server, a real
`rq worker` and the CLI-started gateway, so the harness cannot rot between full runs: the
command line end to end with one row, and every contestant of the operations table with its
checks (a contestant that did not do the whole work fails the run). The full run is
`python -m bench.run` (bench/README.md); it also needs wrk, which these tests do not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bench.infra import REPO, redis_server, start_gateway
from bench.measure_ops import measure_ops
from bench.report import ops_table
from bench.seed import registry_key
from bench.snapshots import build_snapshots, restore

pytestmark = pytest.mark.e2e

N = 100  # the smallest size the command line accepts


def test_the_command_line_reports_the_one_row_it_was_asked_for(redis_server_binary):
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--sizes", str(N), "--repeat", "1", "--only", "groups"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "- Command: `python -m bench.run --sizes 100 --repeat 1 --only groups`" in report
    assert f"#### N = {N} failed jobs" in report
    rows = [
        line for line in report.splitlines() if line.startswith("| ") and not line.startswith("| Operation")
    ]
    assert len(rows) == 1, report
    assert rows[0].startswith(f"| failure groups over {N} failed jobs (REST) | ")
    assert "### Stats throughput" not in report  # --only groups: the operations table alone


def test_every_contestant_does_the_whole_work_of_each_operation(redis_server_binary, tmp_path: Path):
    with redis_server(tmp_path) as (url, r):
        seeding = build_snapshots(r, url, [N], worker_cap=N)
        snapshot = seeding["snapshots"][N]
        assert seeding["seeded"] == N
        gateway = start_gateway(url, tmp_path)
        try:
            with httpx.Client(timeout=60) as client:
                ops = measure_ops(N, r, client, gateway, snapshot, reps=1, loop_reps=1, loop_from=None)
        finally:
            gateway.stop()
        restore(r, snapshot)
        assert r.zcard(registry_key()) == N  # the snapshot still restores the seeded registry

    assert list(ops) == ["retry", "clear", "page", "graphql", "list", "groups"]
    for key in ("retry", "clear", "page", "list"):
        op = ops[key]
        assert op.gateway and op.floor and op.loop, key
        assert not op.loop.extrapolated
    assert ops["graphql"].floor is ops["page"].floor
    table = "\n".join(ops_table(N, ops))
    assert f"| list all {N} with exc_info (REST) | " in table
