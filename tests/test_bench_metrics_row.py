"""The metrics middleware's benchmark row (bench/metrics_row.py, bench/report.py): the baseline app
is the gateway without that one middleware, and the row's verdict is the 70%-of-floor target."""

from __future__ import annotations

from argparse import Namespace

from fastapi.testclient import TestClient

from bench import report
from bench.unmetered_app import app as unmetered_app
from gateway.request_metrics import RequestMetrics


def test_the_baseline_is_the_gateway_without_only_the_metrics_middleware(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    app = unmetered_app()
    kinds = [m.cls for m in app.user_middleware]
    assert RequestMetrics not in kinds and kinds
    # The gateway's own route, answering as the gateway does with no Redis behind it.
    assert TestClient(app).get("/api/v1/jobs/stats").status_code == 503


def test_the_row_meets_its_target_at_70_percent_of_the_floor():
    rps = {"metered": [700.0, 710, 690], "unmetered": [760.0, 770, 750], "floor": [1000.0, 1000, 1000]}
    (row,) = report.metrics_table(rps, 1000)[2:]
    assert "| 70.0% |" in row and row.endswith("yes (70.0% of floor) |")
    rps["metered"] = [690.0, 690, 690]
    assert "**NO** (69.0% of floor)" in report.metrics_table(rps, 1000)[2]


def test_the_section_and_the_summary_line_appear_only_when_measured():
    args = Namespace(wrk_seconds=5, wrk_runs=3)
    assert report.metrics_section(args, None) == []
    metrics = {"n": 1000, "rps": {"metered": [800.0], "unmetered": [850.0], "floor": [1000.0]}}
    assert report.metrics_section(args, metrics)[0].startswith("### Metrics middleware")
