"""Run-time percentiles merge across minutes: however the runs are split into minutes, the
percentiles of the merged buckets are within 1% of the real runs' (nearest rank), and
never above the longest run."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.services.history.timings import RELATIVE_ACCURACY, bucket_field, percentiles, sketch_counts

runs = st.lists(st.floats(0, 86_400, allow_nan=False), min_size=1, max_size=200)


def minute_fields(durations: list[float]) -> dict[bytes, bytes]:
    """One minute's hash as Redis returns it: bucket counts beside other fields."""
    counts = Counter(bucket_field(d) for d in durations)
    return {b"failed": b"3", **{name.encode(): str(n).encode() for name, n in counts.items()}}


@given(durations=runs, cuts=st.lists(st.integers(0, 200), max_size=5))
def test_merged_percentiles_are_those_of_all_the_runs(durations, cuts):
    bounds = sorted({0, len(durations), *(c for c in cuts if c < len(durations))})
    minutes = [durations[a:b] for a, b in itertools.pairwise(bounds)]
    merged: Counter[str] = Counter()
    for minute in minutes:
        merged.update(sketch_counts(minute_fields(minute)))
    longest = max(durations)
    p50, p95 = percentiles(merged, (0.5, 0.95), longest)
    ordered = sorted(durations)
    for value, q in ((p50, 0.5), (p95, 0.95)):
        real = ordered[math.ceil(q * len(ordered)) - 1]  # nearest rank: at least q took no longer
        assert value is not None and value <= longest
        assert value == pytest.approx(real, rel=RELATIVE_ACCURACY * 1.01, abs=2e-6)


def test_the_p95_of_a_few_runs_is_the_longest_as_a_chart_reader_expects():
    """Two runs of 10 s and 30 s in a minute read p50 10 s and p95 10 s under DDSketch's own rank
    rule, while a 30 s job ran: nearest rank gives 30 s (at least 95% took no longer)."""
    counts = sketch_counts(minute_fields([10.0, 30.0]))
    p50, p95 = percentiles(counts, (0.5, 0.95), 30.0)
    assert p50 == pytest.approx(10.0, rel=0.011) and p95 == pytest.approx(30.0, rel=0.011)
    four = sketch_counts(minute_fields([0.005, 0.005, 2.07, 8.0]))
    assert percentiles(four, (0.95,), 8.0)[0] == pytest.approx(8.0, rel=0.011)


def test_no_runs_no_percentiles():
    assert percentiles(Counter(), (0.5, 0.95), None) == [None, None]


def test_zero_length_runs_share_one_bucket():
    assert bucket_field(0.0) == bucket_field(1e-9) == "h:z"
    assert percentiles(Counter({"h:z": 3}), (0.5,), 0.0) == [0.0]
