"""A 5-second, 10-client, 1,000-job run of the load test (bench/load.py), so the harness itself
cannot rot: the full 60 s / 50 clients / 10k jobs run is `python -m bench.load` (RELIABILITY.md)."""

from __future__ import annotations

import pytest

from bench import load
from bench.load_traffic import MIX

pytestmark = pytest.mark.e2e


def test_load_harness_smoke(redis_server_binary):
    result = load.run(seconds=5, clients=10, jobs=1000)

    assert load.verdicts(result) == dict.fromkeys(load.verdicts(result), True), load.render(result, "smoke")
    assert result["errors"] == {}
    for kind in [*MIX, "retry-all"]:
        assert result["latency"].get(kind), f"no {kind} request was made"
    counts = result["counts"]
    assert set(counts) <= {"queued", "failed", "finished"}
    assert sum(counts.values()) == 1000
    assert counts.get("finished", 0) > 0, "the real worker ran none of the requeued jobs"
