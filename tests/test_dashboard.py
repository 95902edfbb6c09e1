"""docs/grafana-dashboard.json: valid JSON, the panels the README promises, and every metric its
queries name is one GET /metrics exposes (scraped here from an app with jobs, a worker and traffic)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rq import Queue, Worker

from tests.metrics_scrape import scrape

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"
PROMISED = {
    "Queue depth",
    "Failures per minute",
    "Queue latency",
    "Request rate",
    "Errors",
    "Request duration p99",
}
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
}


def queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: identifiers that are not functions, keywords,
    grouping labels, label matchers, durations or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if not following.startswith("(") and match.group() not in _KEYWORDS:
            names.add(match.group())
    return names


def test_the_dashboard_is_valid_json_with_the_promised_panels():
    dashboard = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert titles >= PROMISED, PROMISED - titles
    assert all(metric_names(expr) for expr in queries())


def test_the_name_extraction_sees_through_promql():
    expr = 'histogram_quantile(0.99, sum by (le, route) (rate(foo_bucket{job=~"$job"}[5m]))) / bar'
    assert metric_names(expr) == {"foo_bucket", "bar"}


@pytest.fixture
def exposed(client, conn, factory) -> set[str]:
    factory.failed(1)
    factory.finished()
    Worker([Queue("default", connection=conn)], connection=conn, name="w").register_birth()
    client.post("/api/v1/jobs/failed/no-such-job/retry")
    client.get("/api/v1/jobs/stats")
    return {sample.name for family in scrape(client).values() for sample in family.samples}


def test_every_query_names_only_exposed_metrics(exposed):
    for expr in queries():
        assert metric_names(expr) <= exposed, (expr, metric_names(expr) - exposed)
    variables = json.loads(DASHBOARD.read_text())["templating"]["list"]
    for variable in variables:  # label_values(metric{...}, label)
        (name,) = re.findall(r"label_values\(([A-Za-z_:][A-Za-z0-9_:]*)", variable["query"])
        assert name in exposed, variable
