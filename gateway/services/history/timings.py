"""Run times per minute as a DDSketch histogram, so percentiles merge across minutes.

A percentile of percentiles is not a percentile: the p95 of an hour cannot be computed from sixty
per-minute p95s. So each minute keeps how many runs fell into each bucket of DDSketch's
logarithmic mapping (DataDog's `ddsketch`): a bucket spans 2% of its value, so any percentile
read back is within 1% of a real run time, and merging minutes is adding their bucket counts.
A minute holds at most a few hundred buckets whatever the number of jobs.

Percentiles are nearest-rank (the value at rank ceil(q x n), so at least q of the runs took no
longer: the p95 of two runs is the longer one), and are capped by the exact maximum, which is
kept beside the buckets. DDSketch's own rule, rank q x (n - 1) rounded down, gave the shorter.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from ddsketch import DDSketch
from ddsketch.mapping import LogarithmicMapping

from gateway.services.history.layout import SKETCH_PREFIX

RELATIVE_ACCURACY = 0.01
_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
# Runs shorter than this (a microsecond; RQ's timestamps have no finer grain) share one bucket.
_SMALLEST = 1e-6
_ZERO = SKETCH_PREFIX + "z"


def bucket_field(seconds: float) -> str:
    """The hash field counting runs of about this length."""
    if seconds < _SMALLEST:
        return _ZERO
    return f"{SKETCH_PREFIX}{_MAPPING.key(seconds)}"


def sketch_counts(fields: Mapping[bytes, bytes]) -> Counter[str]:
    """The bucket counts among a minute's hash fields."""
    counts: Counter[str] = Counter()
    for name, value in fields.items():
        text = name.decode("utf-8", "replace")
        if text.startswith(SKETCH_PREFIX) and _bucket_value(text) is not None:
            try:
                counts[text] += int(value)
            except ValueError:  # not the writer's count: skipped, as damaged data reads as absent
                continue
    return counts


def _bucket_value(field: str) -> float | None:
    """The run time a bucket field stands for; None for a field the writer cannot have written."""
    suffix = field[len(SKETCH_PREFIX) :]
    if suffix == "z":
        return 0.0
    try:
        value = _MAPPING.value(int(suffix))
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def percentiles(
    counts: Mapping[str, int], quantiles: Iterable[float], cap: float | None
) -> list[float | None]:
    """The quantiles of merged bucket counts (None when there are no runs), at most `cap`."""
    sketch = DDSketch(RELATIVE_ACCURACY)
    for field, count in counts.items():
        if count <= 0:
            continue
        value = _bucket_value(field)
        if value is not None:
            sketch.add(value, count)
    if sketch.count == 0:
        return [None for _ in quantiles]
    values = [sketch.get_quantile_value(_as_ddsketch_rank(q, sketch.count)) for q in quantiles]
    rounded = [None if v is None else round(v, 6) for v in values]
    return [v if v is None or cap is None else min(v, cap) for v in rounded]


def _as_ddsketch_rank(quantile: float, count: float) -> float:
    """The quantile DDSketch reads at the nearest rank of `quantile`: it takes the value at rank
    floor(q' x (n - 1)), 0-based, and the nearest rank is ceil(q x n), 1-based."""
    if count <= 1:
        return 0.0
    return (math.ceil(quantile * count) - 1) / (count - 1)
