"""Reading /metrics as Prometheus does: the text parsed with prometheus_client.parser."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


def families(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def scrape(client: Any, only: str | None = None, **kwargs: Any) -> dict[str, Metric]:
    """Every family, or with `only` that family alone: the process's counters hold every earlier
    test's series, so a test that scrapes many times parses just the one family it reads."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return families(response.text if only is None else _family_lines(response.text, only))


def _family_lines(text: str, name: str) -> str:
    """The HELP, TYPE and sample lines of family `name` (its samples: name, name_total, ...)."""
    line = re.compile(rf"^(# (HELP|TYPE) )?{re.escape(name)}(_[a-z]+)?[{{ ]")
    kept = [row for row in text.splitlines() if line.match(row)]
    assert kept, f"no {name} family in the scrape"
    return "\n".join(kept) + "\n"


def value(found: dict[str, Metric], sample: str, default: float | None = None, **labels: str) -> float:
    """The value of the sample named `sample` whose labels include `labels`; `default` if none."""
    family = found.get(sample.removesuffix("_total").removesuffix("_bucket").removesuffix("_count"))
    for item in family.samples if family else ():
        if item.name == sample and all(item.labels.get(k) == v for k, v in labels.items()):
            return item.value
    if default is None:
        raise AssertionError(f"no sample {sample}{labels}")
    return default


def label_names(found: dict[str, Metric], name: str) -> set[frozenset[str]]:
    return {frozenset(item.labels) for item in found[name].samples}


def series(found: dict[str, Metric], sample: str) -> int:
    family = found[sample.removesuffix("_total")]
    return sum(1 for item in family.samples if item.name == sample)
