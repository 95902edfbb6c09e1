"""Each schemathesis operation test has its own node id (tests/node_ids.py), so pytest-xdist runs
every one of them: with one shared id it ran 1 of 40."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECT = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]


def test_each_api_operation_is_its_own_test():
    collected = subprocess.run(
        [*COLLECT, "tests/realredis/test_schemathesis.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert len(ids) > 20, collected.stdout  # one per documented operation
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1][:3]
    assert (
        "tests/realredis/test_schemathesis.py::test_every_documented_operation_conforms[GET /healthz]" in ids
    )
